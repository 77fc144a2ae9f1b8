"""Server limits through a real server and real channels: open capture streams, each
client's rate of opens, idle streams, per-session caps and the work queue. Every refusal has a
twin that is served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from capture_station.scanners.base import FingerprintCapture
from capture_station.session import SessionConfig, StationSession
from capture_station.spool import Spool
from tests.complete_case import Session as Messages
from tests.complete_case import application, finger_png, frame_jpeg
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from verifier.config import load_config
from lebong_contract.errors import LimitExceeded
from verifier.pki.authority import CA_CERT
from lebong_contract.client_tls import ClientTls
from verifier.server.limits import TokenBuckets

IDLE_S = 2.0
STATIONS = [f"loket-{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_authority(tmp_path_factory.mktemp("pki"), STATIONS)


@pytest.fixture(scope="module")
def verifier(pki: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[InProcessVerifier]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    config = load_config(
        store={"url": url},
        server={**mutual_tls(pki),
                "max_session_streams": 3, "session_opens_per_minute": 6.0,
                "session_open_burst": 4, "session_idle_timeout_s": IDLE_S,
                # Officer sign-in, which these sessions skip, is test_officer_sign_in.py's.
                "require_officer_sign_in": False},
        session={"max_frames": 2, "max_fingerprints": 1})
    v = InProcessVerifier(url, config)
    yield v
    v.stop()


def tls(pki: Path, station: str) -> ClientTls:
    return ClientTls(pki / CA_CERT, pki / "stations" / f"{station}.pem",
                     pki / "stations" / f"{station}.key")


def reason(error: grpc.aio.AioRpcError | grpc.RpcError) -> str:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            info = error_details_pb2.ErrorInfo()
            status_pb2.Status.FromString(value).details[0].Unpack(info)
            return info.reason
    return ""


class Stream:
    """One capture stream held open from a test: write messages, read replies."""

    def __init__(self, address: str, client: ClientTls) -> None:
        self.channel = grpc.aio.secure_channel(address, client.credentials())
        self.call = capture_pb2_grpc.CaptureServiceStub(self.channel).Session()

    async def ask(self, message: capture_pb2.StationMessage, timeout: float = 30
                  ) -> capture_pb2.VerifierMessage:
        await self.call.write(message)
        return await asyncio.wait_for(self.call.read(), timeout)

    async def finish(self) -> grpc.StatusCode:
        """Half-close and wait for the server to end the call: by then it no longer counts
        the stream as open."""
        await self.call.done_writing()
        while await self.call.read() is not grpc.aio.EOF:
            pass
        code = await self.call.code()
        await self.close()
        return code

    async def close(self) -> None:
        await self.channel.close()


def anonymous_start() -> capture_pb2.StationMessage:
    """A new session's Start naming no station: the certificate says which."""
    start = Messages().start()
    start.start.station_id = ""
    return start


async def refusal(address: str, client: ClientTls) -> grpc.aio.AioRpcError:
    """How the server ended a stream it refused. When the refusal beats the Start's write,
    the write fails on the client's side ("Internal error from Core"); the call's own
    status is still the server's answer."""
    s = Stream(address, client)
    try:
        with pytest.raises(grpc.aio.AioRpcError):
            await s.ask(anonymous_start())
        return grpc.aio.AioRpcError(await s.call.code(), await s.call.initial_metadata(),
                                    await s.call.trailing_metadata(),
                                    await s.call.details())
    finally:
        await s.close()


async def acked(address: str, client: ClientTls) -> bool:
    s = Stream(address, client)
    try:
        reply = await s.ask(anonymous_start())
        return reply.WhichOneof("payload") == "ack" and await s.finish() == grpc.StatusCode.OK
    finally:
        await s.close()


def test_streams_over_the_server_cap_are_refused(verifier: InProcessVerifier,
                                                 pki: Path) -> None:
    async def scenario() -> None:
        held = [Stream(verifier.address, tls(pki, s)) for s in STATIONS[:3]]
        starts = [anonymous_start() for _ in STATIONS[:3]]
        for stream, start in zip(held, starts, strict=True):
            assert (await stream.ask(start)).ack.sequence == 1
        began = time.monotonic()
        error = await refusal(verifier.address, tls(pki, STATIONS[3]))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "3 capture streams open" in error.details()
        assert "max_session_streams" in error.details()
        assert reason(error) == "TOO_MANY_STREAMS"
        # Streams that keep talking outlive the idle timeout (a resent Start is acked again).
        while time.monotonic() - began < 1.5 * IDLE_S:
            await asyncio.sleep(IDLE_S / 4)
            for stream, start in zip(held, starts, strict=True):
                assert (await stream.ask(start)).ack.duplicate
        # Twin: once one stream closes, the refused station gets in.
        assert await held[0].finish() == grpc.StatusCode.OK
        assert await acked(verifier.address, tls(pki, STATIONS[3]))
        for stream in held[1:]:
            assert await stream.finish() == grpc.StatusCode.OK

    asyncio.run(scenario())


def test_a_client_over_its_rate_is_refused_while_another_is_served(
        verifier: InProcessVerifier, pki: Path) -> None:
    fast, other = tls(pki, STATIONS[4]), tls(pki, STATIONS[5])

    async def scenario() -> None:
        for _ in range(4):  # the burst
            assert await acked(verifier.address, fast)
        error = await refusal(verifier.address, fast)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"station:{STATIONS[4]} is over its rate of 6 session opens a minute" in \
            error.details()
        assert "session_opens_per_minute" in error.details()
        assert reason(error) == "RATE_LIMITED"
        assert await acked(verifier.address, other)

    asyncio.run(scenario())


def test_token_bucket_refills_at_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    buckets = TokenBuckets(60.0, 2, "calls", "[x] y")
    buckets.take("a")
    buckets.take("a")
    with pytest.raises(LimitExceeded, match=r"retry in 1\.0 s"):
        buckets.take("a")
    buckets.take("b")  # another client has its own bucket
    now[0] += 1.0
    buckets.take("a")  # one token a second
    with pytest.raises(LimitExceeded):
        buckets.take("a")


def test_an_idle_stream_is_closed_and_the_session_goes_on(verifier: InProcessVerifier,
                                                          pki: Path) -> None:
    client = tls(pki, STATIONS[6])
    m = Messages()
    start = m.start()
    start.start.station_id = ""

    async def scenario() -> None:
        s = Stream(verifier.address, client)
        try:
            assert (await s.ask(start)).ack.sequence == 1
            began = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await asyncio.wait_for(s.call.read(), 10 * IDLE_S)
            waited = time.monotonic() - began
        finally:
            await s.close()
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert f"no message for {IDLE_S:g} s" in info.value.details()
        assert reason(info.value) == "STREAM_IDLE"
        assert IDLE_S * 0.9 <= waited < 8 * IDLE_S
        # The station reconnects and goes on with the same session.
        again = Stream(verifier.address, client)
        try:
            assert (await again.ask(m.frame(frame_jpeg()))).ack.sequence == 2
        finally:
            await again.close()

    asyncio.run(scenario())


class PausingScanner:
    """Fingers with a pause longer than the idle timeout before each, like a slow applicant."""

    scanner_id = "pausing"

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s

    def captures(self) -> Iterator[FingerprintCapture]:
        for position in (1, 2):
            time.sleep(self.pause_s)
            yield FingerprintCapture(position=position, image=finger_png(700 + position),
                                     ppi=500, scanner_id=self.scanner_id)

    def close(self) -> None:
        pass


def test_capture_station_rides_out_idle_closes(verifier: InProcessVerifier, pki: Path,
                                               tmp_path: Path) -> None:
    config = SessionConfig(verifier_address=verifier.address, tls=tls(pki, STATIONS[7]),
                           station_id=STATIONS[7], connect_deadline_s=30)
    with Spool(tmp_path / "spool.sqlite3") as spool:
        session = StationSession(config, spool, application=application(),
                                 scanner=PausingScanner(1.6 * IDLE_S))
        report = asyncio.run(session.run())
    assert report.decision != "unspecified" and report.case_id
    assert report.reconnects >= 1  # the verifier did close the silent stream
    case = verifier.store.find_case(report.client_session_id)
    assert case is not None
    assert verifier.store.session_sequences(report.client_session_id) == [1, 2, 3, 4]


def test_per_session_caps_refuse_more_frames_and_fingerprints(verifier: InProcessVerifier,
                                                              pki: Path) -> None:
    m = Messages()
    start = m.start()
    start.start.station_id = ""
    messages = [start, m.frame(frame_jpeg()), m.frame(frame_jpeg()), m.frame(frame_jpeg()),
                m.fingerprint(finger_png(801), 1), m.fingerprint(finger_png(802), 2)]
    client = tls(pki, STATIONS[8])
    with grpc.secure_channel(verifier.address, client.credentials()) as ch:
        replies = list(capture_pb2_grpc.CaptureServiceStub(ch).Session(iter(messages),
                                                                       timeout=120))
    acks = [r.ack.sequence for r in replies if r.WhichOneof("payload") == "ack"]
    assert acks == [1, 2, 3, 4, 5, 6]  # over the cap is committed as rejected, not lost
    errors = {r.error.sequence: r.error.status for r in replies
              if r.WhichOneof("payload") == "error"}
    assert set(errors) == {4, 6}  # the third frame, the second fingerprint
    for sequence in (4, 6):
        assert errors[sequence].code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "2 frame" in errors[4].message and "1 fingerprint" in errors[6].message
    assert "[session] max_frames" in errors[4].message
    assert "[session] max_fingerprints" in errors[6].message


def pinging_client_outcome(tmp_path: Path, min_interval_s: float) -> str:
    """What becomes of a stream whose client pings every 200 ms: "sent away" or "open"
    after 6 s (gRPC's own default sends it away after ~4 s: 5 min between pings)."""
    url = f"sqlite:///{tmp_path / f'c{min_interval_s}.sqlite3'}"
    # The transport alone: no models needed; the stream waits for its first message.
    v = InProcessVerifier(url, load_config(store={"url": url}, server={
        "min_client_ping_interval_s": min_interval_s}), load=False)

    async def scenario() -> str:
        channel = grpc.aio.insecure_channel(v.address, options=[
            ("grpc.keepalive_time_ms", 200), ("grpc.http2.max_pings_without_data", 0)])
        call = capture_pb2_grpc.CaptureServiceStub(channel).Session()
        try:
            await asyncio.wait_for(call.read(), 6)
        except TimeoutError:
            return "open"
        except grpc.aio.AioRpcError as exc:
            assert "too many pings" in (exc.details() or "").lower(), exc
            return "sent away"
        finally:
            await channel.close()
        return "answered"

    try:
        return asyncio.run(scenario())
    finally:
        v.stop()


def test_a_client_pinging_too_often_is_sent_away(tmp_path: Path) -> None:
    assert pinging_client_outcome(tmp_path, 5.0) == "sent away"
    assert pinging_client_outcome(tmp_path, 0.1) == "open"  # the setting is what decides
