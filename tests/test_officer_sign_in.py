"""Officers sign in at the station: the real gRPC server with mutual TLS, the real store and
accounts. A session opens only with an officer token of the calling station, and the case's
officer is the token's, never the message's. Every refusal has a twin that is accepted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pyotp
import pytest

from capture_station.cli import main as station_main
from capture_station.errors import OfficerSignInRefused, SessionRejected
from capture_station.officer import sign_in
from capture_station.session import SessionConfig, StationSession
from capture_station.spool import Spool
from tests.complete_case import Session as Messages
from tests.complete_case import application
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from tests.test_mtls import acks, anonymous_start, refused, run_stream, station_tls
from tests.test_server import error_reason
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from verifier.cases.sign_in import SignedIn
from verifier.config import load_config
from verifier.pki.authority import CA_CERT
from lebong_contract.client_tls import ClientTls

OFFICER, PASSWORD = "petugas-siti", "kata-sandi-loket-2026"
TOTP_OFFICER = "petugas-budi"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_authority(tmp_path_factory.mktemp("pki"), ("loket-1", "loket-2"))


@pytest.fixture(scope="module")
def verifier(pki: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[InProcessVerifier]:
    """The deployment default: mutual TLS, officer sign-in required."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    config = load_config(store={"url": url}, server={
        **mutual_tls(pki)})
    assert config.server.require_officer_sign_in
    v = InProcessVerifier(url, config)
    v.store.add_user(OFFICER, PASSWORD, "officer")
    v.store.add_user(TOTP_OFFICER, PASSWORD, "officer")
    v.store.add_user("peninjau", PASSWORD, "reviewer")
    yield v
    v.stop()


def call_sign_in(verifier: InProcessVerifier, tls: ClientTls, username: str, password: str,
                 totp_code: str = "") -> capture_pb2.SignInResponse:
    with grpc.secure_channel(verifier.address, tls.credentials()) as channel:
        return capture_pb2_grpc.CaptureServiceStub(channel).SignIn(capture_pb2.SignInRequest(
            username=username, password=password, totp_code=totp_code), timeout=30)


def sign_in_refused(verifier: InProcessVerifier, tls: ClientTls, username: str,
                    password: str, totp_code: str = "") -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call_sign_in(verifier, tls, username, password, totp_code)
    return info.value


def reason(error: grpc.RpcError) -> str:
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    return error_reason(status)


def start_with(m: Messages, token: str) -> capture_pb2.StationMessage:
    start = anonymous_start(m)
    start.start.officer_id = "someone-else"  # what the message says does not count
    start.start.officer_token = token
    return start


def test_wrong_password_unknown_name_and_wrong_role_are_refused_alike(
        verifier: InProcessVerifier, pki: Path) -> None:
    tls = station_tls(pki, "loket-1")
    for username, password in ((OFFICER, "wrong"), ("nobody", PASSWORD),
                               ("peninjau", PASSWORD)):  # a reviewer is no officer
        error = sign_in_refused(verifier, tls, username, password)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error.details() == "wrong officer name or password"
        assert reason(error) == "BAD_CREDENTIALS"
    # Twin: the right password signs in.
    answer = call_sign_in(verifier, tls, OFFICER, PASSWORD)
    assert answer.officer_id == OFFICER and len(answer.officer_token) >= 32
    assert answer.expires_at_unix_ms > 0


def test_a_session_opens_only_with_a_token_and_records_its_officer(
        verifier: InProcessVerifier, pki: Path) -> None:
    tls = station_tls(pki, "loket-1")
    for token, code, why in (("", grpc.StatusCode.UNAUTHENTICATED, "OFFICER_TOKEN_MISSING"),
                             ("made-up-token", grpc.StatusCode.UNAUTHENTICATED,
                              "OFFICER_TOKEN_INVALID")):
        m = Messages()
        error = refused(verifier.address, tls, [start_with(m, token)])
        assert error.code() == code and reason(error) == why
        assert verifier.store.find_case(m.sid) is None
    # Twin: a signed-in officer's token opens the session, for that officer.
    token = call_sign_in(verifier, tls, OFFICER, PASSWORD).officer_token
    m = Messages()
    start = start_with(m, token)
    assert acks(run_stream(verifier.address, tls, [start])) == [1]
    case = verifier.store.find_case(m.sid)
    assert case is not None
    assert verifier.store.summary(case.case_id).officer_id == OFFICER
    # A resend of that Start (a reconnect) is a duplicate, not a second sign-in.
    replies = run_stream(verifier.address, tls, [start])
    assert acks(replies) == [1] and replies[0].ack.duplicate


def test_an_expired_token_is_refused(verifier: InProcessVerifier, pki: Path) -> None:
    expired = verifier.store.sign_ins.open_session(
        SignedIn(OFFICER, "officer"), purpose="officer", client="loket-1",
        idle=timedelta(0), lifetime=timedelta(0))
    m = Messages()
    error = refused(verifier.address, station_tls(pki, "loket-1"), [start_with(m, expired)])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(error) == "OFFICER_TOKEN_INVALID"
    assert verifier.store.find_case(m.sid) is None


def test_a_token_of_another_station_is_refused_and_logged(
        verifier: InProcessVerifier, pki: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = call_sign_in(verifier, station_tls(pki, "loket-1"), OFFICER, PASSWORD).officer_token
    m = Messages()
    with caplog.at_level(logging.WARNING, logger="verifier.officer_tokens"):
        error = refused(verifier.address, station_tls(pki, "loket-2"), [start_with(m, token)])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "OFFICER_TOKEN_OTHER_STATION"
    assert verifier.store.find_case(m.sid) is None
    assert any("issued to another station" in r.getMessage() for r in caplog.records)
    # Twin: the station it was issued to opens a session with it.
    assert acks(run_stream(verifier.address, station_tls(pki, "loket-1"),
                           [start_with(Messages(), token)])) == [1]


def test_a_second_station_with_its_own_officer_cannot_take_over_a_known_session(
        verifier: InProcessVerifier, pki: Path, caplog: pytest.LogCaptureFixture) -> None:
    owner, other = station_tls(pki, "loket-1"), station_tls(pki, "loket-2")
    m = Messages()
    first = start_with(m, call_sign_in(verifier, owner, OFFICER, PASSWORD).officer_token)
    assert acks(run_stream(verifier.address, owner, [first])) == [1]
    # loket-2, signed in properly itself, presents loket-1's session id.
    takeover = start_with(m, call_sign_in(verifier, other, OFFICER, PASSWORD).officer_token)
    with caplog.at_level(logging.WARNING, logger="verifier.server.capture_servicer"):
        error = refused(verifier.address, other, [takeover])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "belongs to station loket-1" in error.details()
    assert any("belongs to station loket-1" in r.getMessage() for r in caplog.records)
    assert verifier.store.summary(verifier.store.find_case(m.sid).case_id).officer_id == OFFICER


def test_an_enrolled_second_factor_is_required(verifier: InProcessVerifier, pki: Path) -> None:
    secret = pyotp.parse_uri(verifier.store.sign_ins.enrol_totp(TOTP_OFFICER)).secret
    tls = station_tls(pki, "loket-2")
    error = sign_in_refused(verifier, tls, TOTP_OFFICER, PASSWORD)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and reason(error) == "TOTP_REQUIRED"
    error = sign_in_refused(verifier, tls, TOTP_OFFICER, PASSWORD, "000000"
                            if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert reason(error) == "TOTP_WRONG"
    # Twin: the current code signs in.
    answer = call_sign_in(verifier, tls, TOTP_OFFICER, PASSWORD, pyotp.TOTP(secret).now())
    assert answer.officer_id == TOTP_OFFICER


def test_capture_station_signs_in_and_the_case_is_the_officers(
        verifier: InProcessVerifier, pki: Path, tmp_path: Path) -> None:
    tls = station_tls(pki, "loket-2")
    with pytest.raises(OfficerSignInRefused) as info:
        asyncio.run(sign_in(verifier.address, tls, OFFICER, "wrong"))
    assert info.value.reason == "BAD_CREDENTIALS"
    officer = asyncio.run(sign_in(verifier.address, tls, OFFICER, PASSWORD))
    with Spool(tmp_path / "spool.sqlite3") as spool:
        report = asyncio.run(StationSession(SessionConfig(
            verifier_address=verifier.address, tls=tls, officer_id=officer.officer_id,
            officer_token=officer.token, connect_deadline_s=30), spool,
            application=application()).run())
        assert verifier.store.summary(report.case_id).officer_id == OFFICER
        # Twin: the same station without a sign-in is refused, not retried.
        with pytest.raises(SessionRejected, match="UNAUTHENTICATED"):
            asyncio.run(StationSession(SessionConfig(
                verifier_address=verifier.address, tls=tls, officer_id=OFFICER,
                connect_deadline_s=30), spool, application=application()).run())


def test_station_cli_needs_a_password_it_can_read(verifier: InProcessVerifier, pki: Path,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    tls = ["--tls-ca", str(pki / CA_CERT), "--tls-cert", str(pki / "stations" / "loket-1.pem"),
           "--tls-key", str(pki / "stations" / "loket-1.key")]
    base = ["run", "--verifier", verifier.address, "--camera", str(tmp_path / "none.avi"),
            "--spool", str(tmp_path / "spool.sqlite3"), "--officer", OFFICER, *tls]
    # No terminal (pytest's stdin) and no password file: a clear input error, nothing sent.
    assert station_main(base) == 2
    assert "give --officer-password-file" in capsys.readouterr().err
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not it\n")
    assert station_main([*base, "--officer-password-file", str(wrong)]) == 3
    assert "wrong officer name or password" in capsys.readouterr().err
    # Twin: the right password signs in; the run then stops at the missing camera.
    right = tmp_path / "password"
    right.write_text(PASSWORD + "\n")
    assert station_main([*base, "--officer-password-file", str(right)]) == 2
    captured = capsys.readouterr()
    assert f"officer {OFFICER} masuk / signed in" in captured.out
    assert "camera" in captured.err.lower()
