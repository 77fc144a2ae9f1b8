"""The verifier's gRPC server, in process, through real channels and stubs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.complete_case import Session as Messages
from tests.harness import InProcessVerifier, health_status
from tests.images import encode, png_header_only
from tests.precheck_credentials import Credentials, keyed_verifier
from lebong_contract.api.v1 import (capture_pb2, capture_pb2_grpc, precheck_pb2, precheck_pb2_grpc,
                                    types_pb2)
from verifier.imaging import decode_image
from verifier.synthetic.frames import framed_face

GOOD = encode(framed_face())
SMALL = encode(framed_face(0.2))
EMPTY_ROOM = encode(np.full((480, 640, 3), 235, np.uint8))


def run_stream(address: str, messages: Iterable[capture_pb2.StationMessage]
               ) -> list[capture_pb2.VerifierMessage]:
    with grpc.insecure_channel(address, options=[
            ("grpc.max_send_message_length", 64 * 1024 * 1024)]) as ch:
        return list(capture_pb2_grpc.CaptureServiceStub(ch).Session(iter(list(messages)),
                                                                      timeout=60))


def of(replies: list[capture_pb2.VerifierMessage], kind: str) -> list:
    return [getattr(r, kind) for r in replies if r.WhichOneof("payload") == kind]


def error_reason(status: status_pb2.Status) -> str:
    info = error_details_pb2.ErrorInfo()
    assert status.details and status.details[0].Unpack(info)
    return info.reason


def fingerprint_png() -> bytes:
    rng = np.random.default_rng(3)
    return encode((rng.random((400, 300)) * 255).astype(np.uint8), "PNG")


def test_health_follows_model_loading_and_shutdown(tmp_path) -> None:
    v = InProcessVerifier(f"sqlite:///{tmp_path / 'c.sqlite3'}", load=False)
    try:
        assert health_status(v.address) == health_pb2.HealthCheckResponse.NOT_SERVING
        m = Messages()
        # The whole stream is refused (not message by message), so that the station backs
        # off and resends in order once the models are loaded.
        with pytest.raises(grpc.RpcError) as info:
            run_stream(v.address, [m.start(), m.frame(GOOD)])
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "loading" in info.value.details()
        assert v.store.find_case(m.sid) is None
        v.load_models()
        assert health_status(v.address) == health_pb2.HealthCheckResponse.SERVING
        v.call(v.server.health.enter_graceful_shutdown())
        assert health_status(v.address) == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        v.stop()


def test_reflection_lists_the_services(verifier: InProcessVerifier) -> None:
    with grpc.insecure_channel(verifier.address) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        (resp,) = list(stub.ServerReflectionInfo(iter([
            reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in resp.list_services_response.service}
    assert {"verifier.api.v1.CaptureService", "verifier.api.v1.PrecheckService",
            "grpc.health.v1.Health"} <= names


def test_session_end_to_end(verifier: InProcessVerifier) -> None:
    m = Messages()
    steady = verifier.config.photo.capture.steady_frames
    start = m.start()
    frames = [m.frame(EMPTY_ROOM), m.frame(SMALL)] + [m.frame(GOOD) for _ in range(steady)]
    msgs = [start, *frames,
            m.document(encode(np.full((540, 856, 3), 200, np.uint8), "PNG")),
            m.fingerprint(fingerprint_png()), m.finish()]
    n = len(msgs)
    accepted_seq = 3 + steady
    replies = run_stream(verifier.address, msgs)
    assert [a.sequence for a in of(replies, "ack")] == list(range(1, n + 1))
    assert not any(a.duplicate for a in of(replies, "ack"))
    guidance = of(replies, "guidance")
    assert [g.sequence for g in guidance] == list(range(2, accepted_seq + 1))
    assert guidance[0].hints[0].code == "single_face" and not guidance[0].ready
    assert guidance[1].hints[0].code == "face_size"
    assert "mendekat" in guidance[1].hints[0].message_id
    assert all(g.ready and not g.hints for g in guidance[2:])
    assert guidance[2].face.bottom > guidance[2].face.top
    # Auto-capture after `steady` ready frames in a row, with the passport crop (3:4).
    (accepted,) = of(replies, "capture_accepted")
    assert accepted.sequence == accepted_seq
    photo = decode_image(accepted.photo_jpeg, verifier.config.imaging)
    assert photo.height_px == verifier.config.photo.capture.output_height_px
    assert abs(photo.width_px / photo.height_px - 0.75) < 0.01
    assert [r.sequence for r in of(replies, "item_result")] == [accepted_seq + 1, accepted_seq + 2]
    # A blank grey "KTP" and one random-noise "finger": the case is incomplete, never PASS
    # (its complete twin is test_a_complete_session_passes_and_each_missing_item_stops_it).
    (verdict,) = of(replies, "verdict")
    assert verdict.decision == types_pb2.DECISION_FAIL, verdict
    rules = {f.rule_id for f in verdict.flags}
    assert {"documents.ktp_unreadable", "fingerprint.below_quality_gate",
            "fingerprint.finger_missing"} <= rules, rules
    counts = verifier.store.message_counts()
    assert counts == {"start": 1, "frame": 2 + steady, "document": 1, "fingerprint": 1,
                      "finish": 1}
    case = verifier.store.find_case(m.sid)
    assert case is not None and case.finished and case.case_id == verdict.case_id
    # The accepted frame is kept as the session's photo; other frames only as hash + result.
    assert verifier.store.payload(case.case_id, accepted_seq) == GOOD
    assert verifier.store.payload(case.case_id, accepted_seq - 1) is None


def test_resent_messages_are_acknowledged_again_and_stored_once(verifier: InProcessVerifier) -> None:
    m = Messages()
    msgs = [m.start(), m.frame(GOOD), m.document(GOOD), m.finish()]
    first = run_stream(verifier.address, msgs)
    again = run_stream(verifier.address, msgs)
    assert [a.sequence for a in of(again, "ack")] == [1, 2, 3, 4]
    assert all(a.duplicate for a in of(again, "ack"))
    assert of(again, "verdict")[0] == of(first, "verdict")[0]
    assert verifier.store.session_sequences(m.sid) == [1, 2, 3, 4]


def test_bad_inputs_get_errors_and_the_session_goes_on(verifier: InProcessVerifier) -> None:
    m = Messages()
    good_jpeg = encode((np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8))
    msgs = [m.start(),
            m.frame(good_jpeg[: len(good_jpeg) // 2]),       # 2 truncated JPEG
            m.frame(b""),                                     # 3 zero bytes
            m.document(png_header_only(50_000, 50_000)),      # 4 decompression bomb
            m.document(GOOD, kind=99),                        # 5 unknown enum value
            m.document(b"\x00" * (17 * 1024 * 1024)),         # 6 over the image byte limit
            m.fingerprint(fingerprint_png(), position=42),    # 7 unknown finger position
            m.frame(GOOD), m.frame(GOOD), m.frame(GOOD),      # 8-10 still analysed
            m.finish()]
    replies = run_stream(verifier.address, msgs)
    assert [a.sequence for a in of(replies, "ack")] == list(range(1, 12))
    errors = {e.sequence: e.status for e in of(replies, "error")}
    assert {s: error_reason(st) for s, st in errors.items()} == {
        2: "IMAGE_TRUNCATED", 3: "IMAGE_EMPTY", 4: "IMAGE_TOO_MANY_PIXELS",
        5: "UNKNOWN_ENUM_VALUE", 6: "IMAGE_TOO_MANY_BYTES", 7: "UNKNOWN_ENUM_VALUE"}
    assert all(st.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for st in errors.values())
    assert "50000x50000" in errors[4].message
    assert "document.kind has unknown value 99" == errors[5].message
    assert [c.sequence for c in of(replies, "capture_accepted")] == [10]
    (verdict,) = of(replies, "verdict")
    rules = [f.rule_id for f in verdict.flags]
    assert rules.count("input.item_rejected") == 4  # documents and fingerprints, not frames
    assert "documents.ktp_missing" in rules
    assert verdict.decision == types_pb2.DECISION_FAIL


def test_message_over_transport_limit_ends_only_that_stream(verifier: InProcessVerifier) -> None:
    m = Messages()
    start = m.start()
    huge = m.document(b"\x00" * (25 * 1024 * 1024))
    with pytest.raises(grpc.RpcError) as info:
        run_stream(verifier.address, [start, huge])
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # A new stream resumes the same session (start is a duplicate now or new; either way
    # acked); Finish is refused while the message that never arrived is missing.
    replies = run_stream(verifier.address, [start, m.frame(GOOD), m.finish()])
    assert [a.sequence for a in of(replies, "ack")] == [1, 3]
    assert not of(replies, "verdict")
    (gap,) = of(replies, "error")
    assert gap.sequence == 4 and error_reason(gap.status) == "SEQUENCE_GAP"
    assert gap.status.message.startswith("sequence numbers 2 are missing")


def test_messages_for_unknown_or_malformed_sessions_are_not_acknowledged(
        verifier: InProcessVerifier) -> None:
    stray = capture_pb2.StationMessage(client_session_id="never-started", sequence=2,
                                       frame=capture_pb2.CameraFrame(jpeg=GOOD))
    empty = capture_pb2.StationMessage(client_session_id="x", sequence=1)
    no_id = capture_pb2.StationMessage(sequence=1, finish=capture_pb2.Finish())
    replies = run_stream(verifier.address, [stray, empty, no_id])
    assert not of(replies, "ack")
    codes = [e.status.code for e in of(replies, "error")]
    assert codes == [grpc.StatusCode.FAILED_PRECONDITION.value[0],
                     grpc.StatusCode.INVALID_ARGUMENT.value[0],
                     grpc.StatusCode.INVALID_ARGUMENT.value[0]]


def test_unexpected_errors_become_internal_without_details(
        verifier: InProcessVerifier, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    m = Messages()
    start = m.start()

    def broken(*_: object) -> None:
        raise RuntimeError("secret detail 1707014508900001")

    monkeypatch.setattr(verifier.server.runtime.sessions, "frame", broken)
    replies = run_stream(verifier.address, [start, m.frame(GOOD)])
    (err,) = of(replies, "error")
    assert err.status.code == grpc.StatusCode.INTERNAL.value[0]
    assert "1707014508900001" not in err.status.message
    assert "secret detail" in caplog.text  # the server log keeps the whole story


@pytest.fixture
def precheck_verifier(tmp_path) -> Iterator[tuple[InProcessVerifier, Credentials]]:
    with keyed_verifier(tmp_path) as pair:
        yield pair


def test_precheck_single_and_stream(precheck_verifier: tuple[InProcessVerifier, Credentials]
                                    ) -> None:
    verifier, credentials = precheck_verifier
    with grpc.insecure_channel(verifier.address) as ch:
        stub = precheck_pb2_grpc.PrecheckServiceStub(ch)
        # GOOD is a camera frame: compliant for the counter profile (the verifier crops it).
        counter = precheck_pb2.PROFILE_COUNTER
        ok = stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="a", image=GOOD,
                                                       profile=counter),
                            metadata=credentials, timeout=30)
        assert ok.compliant and ok.photo_id == "a"
        assert [r.requirement for r in ok.requirements] == list(
            verifier.config.photo.counter.requirements)
        with pytest.raises(grpc.RpcError) as info:
            stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="b", image=b"junk"),
                            metadata=credentials, timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "format not recognised" in info.value.details()
        with pytest.raises(grpc.RpcError) as info:
            stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="c", image=GOOD, profile=7),
                            metadata=credentials, timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "profile has unknown value 7" in info.value.details()
        reports = list(stub.CheckPhotos(iter([
            precheck_pb2.PhotoRequest(photo_id="1", image=GOOD, profile=counter),
            precheck_pb2.PhotoRequest(photo_id="2", image=b""),
            precheck_pb2.PhotoRequest(photo_id="3", image=SMALL, profile=counter)]),
            metadata=credentials, timeout=30))
    assert [r.photo_id for r in reports] == ["1", "2", "3"]
    assert reports[0].compliant and not reports[2].compliant
    assert reports[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert error_reason(reports[1].error) == "IMAGE_EMPTY"


def test_deadline_is_honoured(precheck_verifier: tuple[InProcessVerifier, Credentials]
                              ) -> None:
    verifier, credentials = precheck_verifier
    with grpc.insecure_channel(verifier.address) as ch:
        stub = precheck_pb2_grpc.PrecheckServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="a", image=GOOD),
                            metadata=credentials, timeout=0.0001)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
