"""A photo retake inside one case, end to end over the real gRPC server: the accepted capture
is released (and kept in the record), the ready streak starts again after the retake, and the
verdict's evidence uses the newest photo. Refused, by name, with no photo to release, after a
document or finger, and after Finish; a resend is a duplicate. And the station's
`StationSession.retake_photo` spools one and streams the camera again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from capture_station.camera import Frame
from capture_station.errors import SessionError
from capture_station.session import SessionConfig, SessionEvents, StationSession
from capture_station.spool import Spool
from tests.complete_case import Session, blank_png, frame_jpeg
from tests.harness import InProcessVerifier
from tests.test_server import error_reason, fingerprint_png, of, run_stream
from lebong_contract.api.v1 import capture_pb2
from verifier.consistency.case_evidence import case_evidence
from verifier.synthetic.frames import framed_face

REASON = "mata terpejam"


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVerifier]:
    v = InProcessVerifier(f"sqlite:///{tmp_path_factory.mktemp('retake') / 'r.sqlite3'}")
    yield v
    v.stop()


def retake(s: Session, reason: str = REASON) -> capture_pb2.StationMessage:
    return s.next(photo_retake=capture_pb2.PhotoRetake(reason=reason))


def frames(s: Session, verifier: InProcessVerifier) -> list[capture_pb2.StationMessage]:
    """Just enough ready frames in a row for a capture."""
    return [s.frame(frame_jpeg())
            for _ in range(verifier.config.photo.capture.steady_frames)]


def case_id(verifier: InProcessVerifier, s: Session) -> str:
    case = verifier.store.find_case(s.sid)
    assert case is not None
    return case.case_id


def test_a_retake_takes_a_second_photo_in_the_same_case(verifier: InProcessVerifier) -> None:
    s = Session()
    steady = verifier.config.photo.capture.steady_frames
    msgs = [s.start(), *frames(s, verifier), retake(s), *frames(s, verifier), s.finish()]
    first, retaken = 1 + steady, 2 + 2 * steady
    replies = run_stream(verifier.address, msgs)
    assert not of(replies, "error")
    assert [a.sequence for a in of(replies, "ack")] == list(range(1, len(msgs) + 1))
    # The streak starts again after the retake: not the first frame after it.
    assert [c.sequence for c in of(replies, "capture_accepted")] == [first, retaken]
    (verdict,) = of(replies, "verdict")
    case = case_id(verifier, s)
    assert verdict.case_id == case  # one case for both photos
    contents = verifier.store.contents(case)
    assert contents.capture_sequence == retaken
    assert case_evidence(contents).capture is not None
    assert case_evidence(contents).capture.sequence == retaken  # type: ignore[union-attr]
    photos = [m for m in contents.messages if m.kind == "frame"
              and "passport_photo_jpeg_base64" in (m.result or {})]
    assert [(m.sequence, m.has_payload) for m in photos] == [(first, True), (retaken, True)]
    (stored,) = verifier.store.messages_of_kind(case, "photo_retake")
    assert stored.error is None and stored.result is not None
    assert (stored.result["reason"], stored.result["released_capture"]) == (REASON, first)
    assert "input.item_rejected" not in {f.rule_id for f in verdict.flags}


def test_a_retake_before_any_photo_is_refused(verifier: InProcessVerifier) -> None:
    s = Session()
    msgs = [s.start(), s.frame(frame_jpeg()), retake(s), *frames(s, verifier), s.finish()]
    replies = run_stream(verifier.address, msgs)
    (error,) = of(replies, "error")
    assert error.sequence == 3 and error.status.code == 9  # FAILED_PRECONDITION
    assert error_reason(error.status) == "SESSION_STATE"
    assert "no photo has been accepted" in error.status.message
    assert 3 in [a.sequence for a in of(replies, "ack")]  # committed as refused: no gap
    # The refused retake did not cut the streak (frame 2 counts), nor is it for a reviewer.
    steady = verifier.config.photo.capture.steady_frames
    assert [c.sequence for c in of(replies, "capture_accepted")] == [2 + steady]
    (verdict,) = of(replies, "verdict")
    assert "input.item_rejected" not in {f.rule_id for f in verdict.flags}


@pytest.mark.parametrize("item", ["fingerprint", "document", "fingerprint_exception"])
def test_a_retake_after_a_document_or_finger_is_refused(verifier: InProcessVerifier,
                                                        item: str) -> None:
    s = Session()
    first = [s.start(), *frames(s, verifier)]
    sent = {"fingerprint": lambda: s.fingerprint(fingerprint_png()),
            "document": lambda: s.document(blank_png(48, 32)),
            "fingerprint_exception": lambda: s.exception(3)}[item]()
    replies = run_stream(verifier.address, [*first, sent, retake(s)])
    (error,) = [e for e in of(replies, "error") if e.sequence == sent.sequence + 1]
    assert error_reason(error.status) == "SESSION_STATE"
    assert f"already received a {item} (sequence {sent.sequence})" in error.status.message
    case = case_id(verifier, s)
    assert verifier.store.capture_sequence(case) == len(first)  # the photo stands


def test_a_retake_after_finish_is_refused(verifier: InProcessVerifier) -> None:
    s = Session()
    run_stream(verifier.address, [s.start(), *frames(s, verifier), s.finish()])
    late = run_stream(verifier.address, [retake(s)])
    (error,) = of(late, "error")
    assert error.status.code == 9 and error_reason(error.status) == "SESSION_STATE"
    assert "finished" in error.status.message
    assert not of(late, "ack")
    case = case_id(verifier, s)
    assert verifier.store.messages_of_kind(case, "photo_retake") == ()
    assert verifier.store.capture_sequence(case) == 1 + verifier.config.photo.capture.steady_frames


def test_a_resent_retake_is_a_duplicate(verifier: InProcessVerifier) -> None:
    s = Session()
    first = [s.start(), *frames(s, verifier)]
    again = retake(s)
    run_stream(verifier.address, [*first, again])
    resent = run_stream(verifier.address, [again])  # the station reconnects and resends it
    (ack,) = of(resent, "ack")
    assert (ack.sequence, ack.duplicate) == (again.sequence, True)
    assert not of(resent, "error")
    case = case_id(verifier, s)
    assert [m.sequence for m in verifier.store.messages_of_kind(case, "photo_retake")] == [
        again.sequence]
    assert verifier.store.capture_sequence(case) is None  # released once, nothing since
    # The same sequence number with another content is no resend.
    other = capture_pb2.StationMessage()
    other.CopyFrom(again)
    other.photo_retake.reason = "rambut menutupi dahi"
    (error,) = of(run_stream(verifier.address, [other]), "error")
    assert error_reason(error.status) == "RESEND_CONFLICT"


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait for `condition`, failing the test (not hanging it) past `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


class _Frames:
    """A camera showing the same framed face, ten frames a second."""

    def __iter__(self) -> Iterator[Frame]:
        image = framed_face()
        while True:
            time.sleep(0.1)
            yield Frame(image=image, captured_at_unix_ms=time.time_ns() // 1_000_000,
                        channels="rgb")

    def close(self) -> None:
        pass


class _Accepted(SessionEvents):
    def __init__(self) -> None:
        self.accepted: list[int] = []

    def on_capture_accepted(self, accepted: capture_pb2.CaptureAccepted) -> None:
        self.accepted.append(accepted.sequence)


def test_the_station_retakes_and_streams_the_camera_again(verifier: InProcessVerifier,
                                                          tmp_path: Path) -> None:
    events = _Accepted()
    camera = _Frames()
    session = StationSession(SessionConfig(verifier.address, station_id="loket-1",
                                           officer_id="petugas-7"),
                             Spool(tmp_path / "spool.sqlite3"), camera=camera,
                             events=events, interactive=True)

    async def visit() -> tuple[int, list[int]]:
        running = asyncio.create_task(session.run())
        with pytest.raises(SessionError, match="no photo has been accepted"):
            session.retake_photo()
        await until(lambda: len(events.accepted) == 1)
        sequence = session.retake_photo("silau")
        await until(lambda: len(events.accepted) == 2)
        session.finish()
        with pytest.raises(SessionError, match="finished"):
            session.retake_photo()
        report = await running
        assert not report.errors
        return sequence, list(events.accepted)

    sequence, accepted = asyncio.run(visit())
    assert accepted[0] < sequence < accepted[1]
    case = verifier.store.find_case(session.client_session_id)
    assert case is not None
    (stored,) = verifier.store.messages_of_kind(case.case_id, "photo_retake")
    assert stored.result is not None and stored.result["reason"] == "silau"
    assert verifier.store.capture_sequence(case.case_id) == accepted[1]

