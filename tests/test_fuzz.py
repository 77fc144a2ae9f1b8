"""Fuzzing, briefly: every parser that takes outside input meets its contract on generated
input (tests/fuzz/targets.py; bench/fuzz.py runs the same properties for minutes), and
fuzzed messages through a real gRPC server get clear errors while it keeps serving."""

from __future__ import annotations

import time
from collections.abc import Iterator

import cv2
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.complete_case import Session as Messages
from tests.fuzz.targets import TARGETS, Target, fuzz, station_messages, with_claimed_size
from tests.harness import InProcessVerifier, health_status
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from verifier.config import ImagingConfig
from lebong_contract.errors import ImageRejected
from verifier.imaging import decode_image
from verifier.server.capture_servicer import MAX_SEQUENCE

# Examples per target in `make test`: together well under a minute on a busy 2-core machine
# (the OCR-text targets cost ~60 ms an example, the others ~1-10 ms). The server test opens
# fewer streams than the default per-client burst of session opens ([server]
# session_open_burst, 30), so that the limit does not answer in place of the parsers.
EXAMPLES = {"ktp_text": 60, "akta_text": 80}
DEFAULT_EXAMPLES = 150
SESSION_PATH = "/verifier.api.v1.CaptureService/Session"


# Pillow warns about the damaged TIFF tags the decode gate is fed; expected, not a finding.
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_parser_meets_its_contract_on_fuzzed_input(target: Target) -> None:
    examples = EXAMPLES.get(target.name, DEFAULT_EXAMPLES)
    assert fuzz(target, examples) >= examples


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tiff", ".bmp", ".webp"])
def test_huge_claimed_sizes_are_refused_from_the_header_with_the_default_limits(
        ext: str) -> None:
    limits = ImagingConfig()
    ok, buf = cv2.imencode(ext, np.full((8, 8, 3), 128, np.uint8))
    assert ok
    image = buf.tobytes()
    assert decode_image(image, limits).rgb.shape == (8, 8, 3)
    # 100,000 a side, or the most the format's field holds (WEBP 16,384, JPEG 65,535).
    huge = with_claimed_size(image, 100_000, 100_000)
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as info:
        decode_image(huge, limits)
    assert info.value.reason == "IMAGE_TOO_MANY_PIXELS", info.value.message
    assert time.perf_counter() - started < 0.5  # from the header: no pixel decoded


def _splits_on_dots(token: str) -> None:
    """A parser with a bug: it assumes three parts."""
    _, _, _ = token.split(".")


def test_fuzzing_finds_and_shrinks_a_broken_contract() -> None:
    broken = Target("broken", "a parser that assumes three parts", st.text(max_size=20),
                    _splits_on_dots)
    with pytest.raises(ValueError) as info:
        fuzz(broken, 100)
    # Hypothesis reports the smallest input that breaks it: the empty token.
    assert "value=''" in "\n".join(info.value.__notes__)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVerifier]:
    v = InProcessVerifier(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cases.sqlite3'}")
    yield v
    v.stop()


def _replies(channel: grpc.Channel, messages: list[capture_pb2.StationMessage]
             ) -> tuple[list[capture_pb2.VerifierMessage], grpc.StatusCode]:
    stub = capture_pb2_grpc.CaptureServiceStub(channel)
    replies: list[capture_pb2.VerifierMessage] = []
    try:
        replies.extend(stub.Session(iter(messages), timeout=60))
    except grpc.RpcError as exc:
        return replies, exc.code()
    return replies, grpc.StatusCode.OK


@pytest.mark.slow
def test_fuzzed_station_messages_get_clear_errors_and_the_server_keeps_serving(
        server: InProcessVerifier) -> None:
    with grpc.insecure_channel(server.address) as channel:

        @settings(max_examples=20, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(station_messages(), min_size=1, max_size=6))
        def session(messages: list[capture_pb2.StationMessage]) -> None:
            replies, code = _replies(channel, messages)
            # A bad message is answered with its own error (a domain code, never INTERNAL:
            # that would be an exception nobody meant), or the stream ends with one.
            assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), code
            for r in replies:
                if r.WhichOneof("payload") == "error":
                    assert r.error.status.code != grpc.StatusCode.INTERNAL.value[0], r
                    assert r.error.status.message

        session()

        @settings(max_examples=6, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(st.binary(max_size=200), min_size=1, max_size=3))
        def wire(chunks: list[bytes]) -> None:
            """Bytes that are no StationMessage end the stream with INVALID_ARGUMENT (some
            random bytes do parse as one and are answered like any message)."""
            call = channel.stream_stream(SESSION_PATH, request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
            try:
                list(call(iter(chunks), timeout=30))
            except grpc.RpcError as exc:
                assert exc.code() not in (grpc.StatusCode.INTERNAL,
                                          grpc.StatusCode.UNKNOWN), exc

        wire()
        call = channel.stream_stream(SESSION_PATH, request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as refused:  # a truncated varint: never a message
            list(call(iter([b"\x08\xff"]), timeout=30))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a StationMessage" in refused.value.details()
        # Still serving: a well-formed session is acknowledged.
        assert health_status(server.address) == health_pb2.HealthCheckResponse.SERVING
        m = Messages()
        replies, code = _replies(channel, [m.start()])
        assert code == grpc.StatusCode.OK
        assert [r.ack.sequence for r in replies if r.WhichOneof("payload") == "ack"] == [1]


@pytest.mark.slow
def test_absurd_sequence_numbers_get_a_clear_error(server: InProcessVerifier) -> None:
    """The fuzzer's finding: a sequence number beyond the store's INTEGER column failed in
    the database driver (INTERNAL) instead of being refused."""
    m = Messages()
    start = m.start()

    def frame(sequence: int) -> capture_pb2.StationMessage:
        return capture_pb2.StationMessage(client_session_id=m.sid, sequence=sequence,
                                          frame=capture_pb2.CameraFrame(jpeg=b"x"))

    with grpc.insecure_channel(server.address) as channel:
        replies, code = _replies(channel, [start, frame(2**63), frame(2**64 - 1),
                                           frame(MAX_SEQUENCE)])
    assert code == grpc.StatusCode.OK
    errors = {r.error.sequence: r.error.status for r in replies
              if r.WhichOneof("payload") == "error"}
    for sequence in (2**63, 2**64 - 1):
        assert errors[sequence].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert errors[sequence].message == f"sequence must be 1-{MAX_SEQUENCE}"
    # The largest number the store holds is still a message (its image is refused, not it).
    assert [r.ack.sequence for r in replies if r.WhichOneof("payload") == "ack"] == [
        1, MAX_SEQUENCE]
    assert errors[MAX_SEQUENCE].message.startswith("image format not recognised")
