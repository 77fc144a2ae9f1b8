"""StationSession and the CLI against a tiny fake CaptureService (the real verifier's end-to-end
tests live elsewhere). The fake commits each (session, sequence) once, acks everything (again,
with duplicate=true, on a resend), sends guidance for frames, accepts a capture after a few
frames, results for fingerprints and documents, and a verdict after Finish."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from capture_station.camera import Frame
from capture_station.cli import main
from capture_station.documents import DocumentScan
from capture_station.errors import SessionRejected, VerifierUnreachable
from capture_station.scanners import FolderScanner
from capture_station.session import SessionConfig, SessionEvents, StationSession
from capture_station.spool import Spool
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2

FAST = dict(backoff_initial_s=0.05, backoff_max_s=0.2, close_grace_s=0.2)
BAD_IMAGE = b"not an image"


# The fake verifier ------------------------------------------------------------------------------

@dataclass
class FakeState:
    """Shared by every server instance, so it survives a 'restart'."""

    accept_after_frames: int = 3
    frame_ack_delay_s: float = 0.0
    crash_on_kind: str | None = None  # hang on the first message of this kind, never commit it
    drop_verdict_once: bool = False  # end the stream right after acking the first Finish
    committed: dict[tuple[str, int], str] = field(default_factory=dict)
    received: list[tuple[str, int, str, bool]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    crashed: asyncio.Event | None = None
    lost: list[int] = field(default_factory=list)  # sequences received but never committed

    def commit_count(self) -> Counter[tuple[str, int]]:
        return Counter((sid, seq) for sid, seq, _, dup in self.received if not dup)

    def kinds(self, sid: str) -> list[str]:
        return [self.committed[(s, q)] for s, q in sorted(self.committed) if s == sid]


def respond(state: FakeState, msg: capture_pb2.StationMessage) -> list[capture_pb2.VerifierMessage]:
    sid, seq, kind = msg.client_session_id, msg.sequence, msg.WhichOneof("payload")
    dup = (sid, seq) in state.committed
    state.received.append((sid, seq, kind, dup))
    out: list[capture_pb2.VerifierMessage] = []

    def send(**payload):
        out.append(capture_pb2.VerifierMessage(client_session_id=sid, **payload))

    if not dup:
        state.committed[(sid, seq)] = kind
        if kind == "frame":
            frames = sum(1 for (s, _), k in state.committed.items() if s == sid and k == "frame")
            ready = frames >= state.accept_after_frames
            hints = [] if ready else [capture_pb2.Hint(
                code="face_too_small", message_id="wajah terlalu kecil",
                message_en="face too small")]
            send(guidance=capture_pb2.Guidance(sequence=seq, ready=ready, hints=hints))
            if ready and sid not in state.accepted:
                state.accepted.add(sid)
                send(capture_accepted=capture_pb2.CaptureAccepted(sequence=seq))
        elif kind == "document" and msg.document.image == BAD_IMAGE:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.ErrorInfo(reason="IMAGE_REJECTED", domain="verifier"))
            send(error=types_pb2.ItemError(sequence=seq, status=status_pb2.Status(
                code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="not an image",
                details=[detail])))
        elif kind in ("fingerprint", "document"):
            send(item_result=capture_pb2.ItemResult(sequence=seq, summary=f"{kind} ok"))
    send(ack=capture_pb2.Ack(sequence=seq, duplicate=dup))
    if kind == "finish":
        send(verdict=capture_pb2.Verdict(
            case_id=f"case-{sid[:8]}", decision=types_pb2.DECISION_REVIEW,
            flags=[types_pb2.Flag(rule_id="photo.glasses", severity=types_pb2.SEVERITY_REVIEW,
                                  evidence={"score": "0.7"}, message_id="kacamata",
                                  message_en="glasses")]))
    return out


class AsyncFake(capture_pb2_grpc.CaptureServiceServicer):
    def __init__(self, state: FakeState) -> None:
        self.state = state

    async def Session(self, request_iterator, context):
        state = self.state
        async for msg in request_iterator:
            kind = msg.WhichOneof("payload")
            if state.crash_on_kind == kind and state.crashed and not state.crashed.is_set():
                state.crashed.set()
                state.lost.append(msg.sequence)
                await asyncio.Event().wait()  # "crashed" before committing: until stopped
            if kind == "frame" and state.frame_ack_delay_s:
                await asyncio.sleep(state.frame_ack_delay_s)
            for response in respond(state, msg):
                if (state.drop_verdict_once and response.WhichOneof("payload") == "verdict"):
                    state.drop_verdict_once = False
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
                yield response


async def start_server(state: FakeState, port: int = 0,
                       max_receive_bytes: int | None = None) -> tuple[grpc.aio.Server, int]:
    options = [] if max_receive_bytes is None else [
        ("grpc.max_receive_message_length", max_receive_bytes)]
    server = grpc.aio.server(options=options)
    capture_pb2_grpc.add_CaptureServiceServicer_to_server(AsyncFake(state), server)
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server, port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Station-side inputs ----------------------------------------------------------------------------

class ListCamera:
    """A camera that yields synthetic frames, optionally paced."""

    def __init__(self, count: int, period_s: float = 0.0) -> None:
        self.count = count
        self.period_s = period_s

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.count):
            if self.period_s:
                time.sleep(self.period_s)
            image = np.full((48, 64, 3), i % 256, np.uint8)
            yield Frame(image=image, captured_at_unix_ms=time.time_ns() // 1_000_000)

    def close(self) -> None:
        pass


class Recorder(SessionEvents):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_guidance(self, g):
        self.events.append(("guidance", g.sequence))

    def on_capture_accepted(self, a):
        self.events.append(("accepted", a.sequence))

    def on_item_result(self, r):
        self.events.append(("result", r.sequence))

    def on_item_error(self, e):
        self.events.append(("error", e.sequence))

    def on_verdict(self, v):
        self.events.append(("verdict", 0))

    def on_reconnecting(self, attempt, delay_s, reason):
        self.events.append(("reconnecting", attempt))


@pytest.fixture
def fingerprints(tmp_path):
    folder = tmp_path / "prints"
    folder.mkdir()
    (folder / "right_index.png").write_bytes(b"print-2")
    (folder / "07.png").write_bytes(b"print-7")
    return folder


def config(port: int, **overrides) -> SessionConfig:
    return SessionConfig(verifier_address=f"127.0.0.1:{port}", station_id="st-1",
                         officer_id="off-1", **{**FAST, "max_fps": 1000.0, **overrides})


def assert_committed_once_in_order(state: FakeState, sid: str, spool: Spool) -> list[str]:
    counts = state.commit_count()
    seqs = sorted(seq for s, seq in counts if s == sid)
    assert seqs == list(range(1, len(seqs) + 1)), "a sequence was skipped or never resent"
    assert all(counts[(sid, seq)] == 1 for seq in seqs)
    kinds = state.kinds(sid)
    assert kinds[0] == "start" and kinds[-1] == "finish"
    assert spool.pending_count(sid) == 0 and spool.open_sessions() == []
    return kinds


# Session tests ----------------------------------------------------------------------------------

def test_full_session(tmp_path, fingerprints):
    async def scenario():
        state = FakeState()
        server, port = await start_server(state)
        events = Recorder()
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(
                    config(port), spool, camera=ListCamera(200), events=events,
                    scanner=FolderScanner(fingerprints),
                    application=types_pb2.ApplicationData(full_name="Siti"),
                    documents=[DocumentScan(types_pb2.DOCUMENT_KIND_KTP, b"ktp", "ktp.jpg"),
                               DocumentScan(types_pb2.DOCUMENT_KIND_IJAZAH, BAD_IMAGE, "x")])
                report = await session.run()
                kinds = assert_committed_once_in_order(state, session.client_session_id, spool)
                stored = spool.session(session.client_session_id)
        finally:
            await server.stop(None)
        return state, report, kinds, stored, events

    state, report, kinds, stored, events = asyncio.run(scenario())
    assert kinds == ["start"] + ["frame"] * report.frames_sent + [
        "document", "document", "fingerprint", "fingerprint", "finish"]
    assert report.decision == "review" and report.case_id.startswith("case-")
    assert report.flags[0].rule_id == "photo.glasses" and report.flags[0].severity == "review"
    assert report.capture_accepted_sequence == 4  # the third frame
    # One more frame may already be on the wire when the acceptance arrives (window of 2).
    assert report.frames_sent in (3, 4) and report.guidance_count == report.frames_sent
    assert report.frames_sent + report.frames_dropped + report.frames_rate_limited <= 200
    assert report.fingerprints_sent == 2 and report.documents_sent == 2
    assert [i.summary for i in report.items] == ["document ok"] + ["fingerprint ok"] * 2
    [error] = report.errors
    assert (error.source, error.code, error.message) == ("verifier", "IMAGE_REJECTED",
                                                        "not an image")
    assert report.reconnects == 0 and not report.resumed
    assert report.time_to_capture_s is not None and report.time_to_verdict_s is not None
    assert stored.verdict["case_id"] == report.case_id and stored.state == "done"
    assert ("accepted", 4) in events.events and events.events[-1] == ("verdict", 0)
    assert json.loads(report.to_json())["flags"][0]["evidence"] == {"score": "0.7"}
    start = next(s for s in state.received if s[2] == "start")
    assert start[1] == 1


def test_lagging_verifier_makes_the_station_drop_frames(tmp_path):
    async def scenario():
        state = FakeState(accept_after_frames=10_000, frame_ack_delay_s=0.05)
        server, port = await start_server(state)
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(config(port), spool, camera=ListCamera(60, 0.002))
                report = await session.run()
                assert_committed_once_in_order(state, session.client_session_id, spool)
        finally:
            await server.stop(None)
        return report

    report = asyncio.run(scenario())
    assert report.capture_accepted_sequence is None
    assert report.frames_sent + report.frames_dropped + report.frames_rate_limited == 60
    assert report.frames_dropped > report.frames_sent >= 2
    assert report.decision == "review"


def test_server_restart_mid_session_resends_unacked_exactly_once(tmp_path, fingerprints):
    async def scenario():
        state = FakeState(crash_on_kind="document", crashed=asyncio.Event())
        server, port = await start_server(state)
        events = Recorder()
        with Spool(tmp_path / "spool.db") as spool:
            session = StationSession(
                config(port, connect_deadline_s=10.0), spool, camera=ListCamera(50),
                scanner=FolderScanner(fingerprints), events=events,
                documents=[DocumentScan(types_pb2.DOCUMENT_KIND_KTP, b"ktp", "ktp.jpg")])
            task = asyncio.create_task(session.run())
            await asyncio.wait_for(state.crashed.wait(), 10)
            await asyncio.sleep(0.1)  # let the station spool the rest meanwhile
            pending_at_crash = spool.pending_count(session.client_session_id)
            await server.stop(None)
            await asyncio.sleep(0.3)  # the station retries against a closed port
            server, _ = await start_server(state, port)
            try:
                report = await asyncio.wait_for(task, 20)
            finally:
                await server.stop(None)
            kinds = assert_committed_once_in_order(state, session.client_session_id, spool)
        return state, report, kinds, pending_at_crash, events

    state, report, kinds, pending_at_crash, events = asyncio.run(scenario())
    assert pending_at_crash >= 4  # the document, two prints and Finish were waiting
    assert kinds[-4:] == ["document", "fingerprint", "fingerprint", "finish"]
    assert report.reconnects >= 1 and ("reconnecting", 1) in events.events
    assert report.decision == "review" and report.fingerprints_sent == 2
    # The message the server "crashed" on was lost, resent on the new stream, committed once.
    [lost] = state.lost
    first_document = min(seq for (_, seq), kind in state.committed.items() if kind == "document")
    assert lost == first_document


def test_lost_verdict_is_fetched_by_resending_finish(tmp_path):
    async def scenario():
        state = FakeState(drop_verdict_once=True)
        server, port = await start_server(state)
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(config(port), spool)
                report = await session.run()
                assert_committed_once_in_order(state, session.client_session_id, spool)
        finally:
            await server.stop(None)
        return state, report

    state, report = asyncio.run(scenario())
    assert report.decision == "review" and report.reconnects == 1
    assert [(kind, dup) for _, _, kind, dup in state.received] == [
        ("start", False), ("finish", False), ("finish", True)]


def test_unreachable_verifier_gives_up_and_resume_finishes_later(tmp_path):
    port = free_port()
    spool_path = tmp_path / "spool.db"

    async def offline():
        with Spool(spool_path) as spool:
            session = StationSession(config(port, connect_deadline_s=0.6), spool,
                                     camera=ListCamera(1000, 0.01))
            started = time.monotonic()
            with pytest.raises(VerifierUnreachable, match="capture-station resume"):
                await session.run()
            assert time.monotonic() - started < 5
            return session.client_session_id, [m.WhichOneof("payload")
                                               for m in spool.unacked(session.client_session_id)]

    sid, left = asyncio.run(offline())
    # Frames stopped at the in-flight window; Finish was never spooled.
    assert left[0] == "start" and set(left[1:]) == {"frame"} and len(left) <= 3

    async def online():
        state = FakeState()
        server, _ = await start_server(state, port)
        try:
            with Spool(spool_path) as spool:
                [stored] = spool.open_sessions()
                assert stored.client_session_id == sid
                report = await StationSession.resume(config(port), spool, sid).run()
                kinds = assert_committed_once_in_order(state, sid, spool)
        finally:
            await server.stop(None)
        return report, kinds

    report, kinds = asyncio.run(online())
    assert report.resumed and report.decision == "review"
    assert kinds == left + ["finish"]


def test_oversized_message_is_refused_locally_and_the_session_goes_on(tmp_path):
    async def scenario():
        state = FakeState()
        server, port = await start_server(state)
        try:
            with Spool(tmp_path / "spool.db", max_message_bytes=10_000) as spool:
                session = StationSession(config(port), spool, documents=[
                    DocumentScan(types_pb2.DOCUMENT_KIND_KTP, b"\0" * 20_000, "big.png")])
                report = await session.run()
                kinds = assert_committed_once_in_order(state, session.client_session_id, spool)
        finally:
            await server.stop(None)
        return report, kinds

    report, kinds = asyncio.run(scenario())
    assert kinds == ["start", "finish"]
    [error] = report.errors
    assert error.source == "station" and error.code == "MESSAGE_TOO_LARGE"
    assert report.documents_sent == 0


def test_message_over_the_servers_limit_fails_instead_of_looping(tmp_path):
    async def scenario():
        server, port = await start_server(FakeState(), max_receive_bytes=50_000)
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(config(port, connect_deadline_s=30), spool, documents=[
                    DocumentScan(types_pb2.DOCUMENT_KIND_KTP, b"\0" * 100_000, "big.png")])
                started = time.monotonic()
                with pytest.raises(SessionRejected, match="RESOURCE_EXHAUSTED"):
                    await session.run()
                assert time.monotonic() - started < 5
                assert spool.pending_count(session.client_session_id) >= 1
        finally:
            await server.stop(None)

    asyncio.run(scenario())


# CLI --------------------------------------------------------------------------------------------

class SyncFake(capture_pb2_grpc.CaptureServiceServicer):
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.lock = threading.Lock()

    def Session(self, request_iterator, context):
        for msg in request_iterator:
            with self.lock:
                responses = respond(self.state, msg)
            yield from responses


def start_sync_server(state: FakeState, port: int = 0) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    capture_pb2_grpc.add_CaptureServiceServicer_to_server(SyncFake(state), server)
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, port


def write_video(path, frames: int = 12) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()


def test_cli_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--verifier", "--camera", "--max-fps", "--scanner", "--document",
                   "--application", "--station-id", "--officer-id", "--spool", "--report",
                   "--json", "--frame-timeout", "--connect-deadline", "akta_kelahiran"):
        assert option in text
    with pytest.raises(SystemExit):
        main(["resume", "--help"])
    text = capsys.readouterr().out
    for option in ("--verifier", "--spool", "--report", "--json"):
        assert option in text


def test_cli_run_prints_guidance_once_and_writes_the_report(tmp_path, fingerprints, capsys):
    video = tmp_path / "cam.avi"
    write_video(video)
    ktp = tmp_path / "ktp.jpg"
    ktp.write_bytes(b"ktp")
    app = tmp_path / "app.json"
    app.write_text(json.dumps({
        "full_name": "Siti Aminah", "nik": "1707015708900001", "date_of_birth": "1990-08-17",
        "place_of_birth": "Muara Aman", "sex": "female", "passport_type": "ordinary"}))
    state = FakeState(accept_after_frames=4)
    server, port = start_sync_server(state)
    try:
        code = main(["run", "--verifier", f"127.0.0.1:{port}", "--camera", str(video),
                     "--max-fps", "100", "--dev", "--scanner", f"folder:{fingerprints}",
                     "--document", f"ktp={ktp}", "--application", str(app),
                     "--spool", str(tmp_path / "spool.db"), "--report",
                     str(tmp_path / "report.json"), "--json", "-", "--frame-timeout", "5"])
    finally:
        server.stop(None)
    out, err = capsys.readouterr()
    assert code == 0
    report = json.loads(out)  # stdout holds only the JSON with --json -
    assert report == json.loads((tmp_path / "report.json").read_text())
    assert report["decision"] == "review" and report["fingerprints_sent"] == 2
    assert err.count("wajah terlalu kecil / face too small") == 1
    assert "siap / ready" in err and "VERDICT: REVIEW" in err and "photo.glasses" in err
    start = next(k for k, v in state.committed.items() if v == "start")
    assert start[1] == 1


def test_cli_bad_input_exits_2_without_spooling(tmp_path, capsys):
    app = tmp_path / "app.json"
    app.write_text(json.dumps({"full_name": "x"}))
    spool = tmp_path / "spool.db"
    code = main(["run", "--verifier", "127.0.0.1:1", "--camera", "0", "--application",
                 str(app), "--spool", str(spool)])
    assert code == 2
    assert "missing field 'nik'" in capsys.readouterr().err
    with Spool(spool) as s:
        assert s.open_sessions() == []


def test_cli_unreachable_then_resume(tmp_path, capsys):
    port = free_port()
    ktp = tmp_path / "ktp.jpg"
    ktp.write_bytes(b"ktp")
    video = tmp_path / "cam.avi"
    write_video(video, frames=2)
    spool = str(tmp_path / "spool.db")
    code = main(["run", "--verifier", f"127.0.0.1:{port}", "--camera", str(video),
                 "--document", f"ktp={ktp}", "--spool", spool, "--connect-deadline", "0.5"])
    assert code == 3
    assert "capture-station resume" in capsys.readouterr().err
    state = FakeState()
    server, _ = start_sync_server(state, port)
    try:
        code = main(["resume", "--spool", spool, "--json", str(tmp_path / "r.json")])
    finally:
        server.stop(None)
    assert code == 0
    [report] = json.loads((tmp_path / "r.json").read_text())
    assert report["resumed"] and report["decision"] == "review"
    assert main(["resume", "--spool", spool]) == 0
    assert "no open sessions" in capsys.readouterr().out


def test_silent_stall_counts_as_a_broken_stream(tmp_path):
    """The server hangs on Finish without closing the connection (a silent network cut looks
    the same); the station's watchdog reconnects and resends Finish."""
    async def scenario():
        state = FakeState(crash_on_kind="finish", crashed=asyncio.Event())
        server, port = await start_server(state)
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(config(port, stall_timeout_s=0.5), spool)
                report = await asyncio.wait_for(session.run(), 10)
                assert_committed_once_in_order(state, session.client_session_id, spool)
        finally:
            await server.stop(None)
        return state, report

    state, report = asyncio.run(scenario())
    assert report.reconnects == 1 and state.lost == [2] and report.decision == "review"


def test_frame_timeout_stops_streaming_without_a_capture(tmp_path):
    async def scenario():
        state = FakeState(accept_after_frames=10_000)
        server, port = await start_server(state)
        try:
            with Spool(tmp_path / "spool.db") as spool:
                session = StationSession(config(port, frame_timeout_s=0.3, max_fps=20), spool,
                                         camera=ListCamera(10_000, 0.01))
                started = time.monotonic()
                report = await session.run()
                elapsed = time.monotonic() - started
        finally:
            await server.stop(None)
        return report, elapsed

    report, elapsed = asyncio.run(scenario())
    assert elapsed < 3 and report.capture_accepted_sequence is None
    assert 2 <= report.frames_sent <= 10 and report.frames_rate_limited > 0
