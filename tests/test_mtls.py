"""Mutual TLS between stations and the verifier: a real server with certificates from
`verifier pki`, real TLS channels. Every refusal has a twin that is accepted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from capture_station.errors import SessionRejected
from capture_station.session import SessionConfig, StationSession
from capture_station.spool import Spool
from tests.complete_case import Session as Messages
from tests.complete_case import application
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from verifier.cli import main as verifier_main
from verifier.config import load_config
from verifier.pki.authority import (CA_CERT, SERVER_CERT, SERVER_KEY, init_authority,
                                    issue_station, revoke)
from lebong_contract.client_tls import ClientTls
from verifier.server.app import listen_credentials
from lebong_contract.probe import health_status


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_authority(tmp_path_factory.mktemp("pki"), ("loket-1", "loket-2", "loket-3"))


@pytest.fixture(scope="module")
def tls_verifier(pki: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[InProcessVerifier]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    # Officer sign-in, which these sessions skip, is tests/test_officer_sign_in.py's.
    config = load_config(store={"url": url}, server={
        **mutual_tls(pki),
        "require_officer_sign_in": False})
    v = InProcessVerifier(url, config)
    yield v
    v.stop()


def station_tls(pki: Path, station: str) -> ClientTls:
    return ClientTls(pki / CA_CERT, pki / "stations" / f"{station}.pem",
                     pki / "stations" / f"{station}.key")


def run_stream(address: str, tls: ClientTls | None,
               messages: list[capture_pb2.StationMessage]) -> list[capture_pb2.VerifierMessage]:
    channel = (grpc.insecure_channel(address) if tls is None
               else grpc.secure_channel(address, tls.credentials()))
    with channel:
        return list(capture_pb2_grpc.CaptureServiceStub(channel).Session(
            iter(messages), timeout=60))


def refused(address: str, tls: ClientTls | None,
            messages: list[capture_pb2.StationMessage]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        run_stream(address, tls, messages)
    return info.value


def anonymous_start(m: Messages) -> capture_pb2.StationMessage:
    """A Start naming no station: the certificate says which."""
    start = m.start()
    start.start.station_id = ""
    return start


def acks(replies: list[capture_pb2.VerifierMessage]) -> list[int]:
    return [r.ack.sequence for r in replies if r.WhichOneof("payload") == "ack"]


def test_plain_text_client_is_refused_at_the_handshake(tls_verifier: InProcessVerifier,
                                                       pki: Path) -> None:
    assert health_status(tls_verifier.address) is None
    m = Messages()
    error = refused(tls_verifier.address, None, [m.start()])
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert tls_verifier.store.find_case(m.sid) is None
    # Twin: the same call with a station certificate.
    assert health_status(tls_verifier.address, tls=station_tls(pki, "loket-1")) == \
        health_pb2.HealthCheckResponse.SERVING


def test_certificate_from_another_ca_is_refused(tls_verifier: InProcessVerifier, pki: Path,
                                               tmp_path: Path) -> None:
    other = tmp_path / "other-ca"
    init_authority(other, ["localhost"])
    issue_station(other, "loket-1")  # the right name, signed by the wrong CA
    forged = ClientTls(pki / CA_CERT, other / "stations" / "loket-1.pem",
                       other / "stations" / "loket-1.key")
    assert health_status(tls_verifier.address, tls=forged) is None
    m = Messages()
    assert refused(tls_verifier.address, forged, [m.start()]).code() == \
        grpc.StatusCode.UNAVAILABLE
    assert tls_verifier.store.find_case(m.sid) is None
    # A station that trusts another CA does not accept this verifier either.
    misled = ClientTls(other / CA_CERT, pki / "stations" / "loket-1.pem",
                       pki / "stations" / "loket-1.key")
    assert health_status(tls_verifier.address, tls=misled) is None


def test_revoked_certificate_is_refused_without_a_restart(tls_verifier: InProcessVerifier,
                                                          pki: Path) -> None:
    tls = station_tls(pki, "loket-3")
    first = Messages()
    assert acks(run_stream(tls_verifier.address, tls, [anonymous_start(first)])) == [1]
    revoke(pki, station_id="loket-3")
    m = Messages()
    error = refused(tls_verifier.address, tls, [anonymous_start(m)])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in error.details()
    assert tls_verifier.store.find_case(m.sid) is None
    with grpc.secure_channel(tls_verifier.address, tls.credentials()) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Other stations are unaffected.
    assert health_status(tls_verifier.address, tls=station_tls(pki, "loket-2")) == \
        health_pb2.HealthCheckResponse.SERVING


def test_station_id_comes_from_the_certificate(tls_verifier: InProcessVerifier,
                                               pki: Path) -> None:
    m = Messages()
    assert acks(run_stream(tls_verifier.address, station_tls(pki, "loket-2"),
                           [anonymous_start(m)])) == [1]
    case = tls_verifier.store.find_case(m.sid)
    assert case is not None
    assert tls_verifier.store.summary(case.case_id).station_id == "loket-2"
    # Naming itself is accepted too (Messages.start names loket-1).
    own = Messages()
    assert acks(run_stream(tls_verifier.address, station_tls(pki, "loket-1"),
                           [own.start()])) == [1]


def test_message_naming_another_station_is_refused(tls_verifier: InProcessVerifier,
                                                   pki: Path, caplog) -> None:
    m = Messages()  # its Start names loket-1
    with caplog.at_level(logging.WARNING, logger="verifier.server.capture_servicer"):
        error = refused(tls_verifier.address, station_tls(pki, "loket-2"), [m.start()])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "loket-1" in error.details() and "loket-2" in error.details()
    assert tls_verifier.store.find_case(m.sid) is None
    assert any("names station loket-1" in r.getMessage() for r in caplog.records)


def test_another_station_cannot_write_into_a_session(tls_verifier: InProcessVerifier,
                                                     pki: Path) -> None:
    m = Messages()
    owner = station_tls(pki, "loket-1")
    assert acks(run_stream(tls_verifier.address, owner, [m.start()])) == [1]
    intruding_finish = m.finish()
    error = refused(tls_verifier.address, station_tls(pki, "loket-2"), [intruding_finish])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "belongs to station loket-1" in error.details()
    # Its own station still reaches the session (the Finish is committed and answered).
    replies = run_stream(tls_verifier.address, owner, [intruding_finish])
    assert acks(replies) == [2]


def test_certificate_naming_no_station_cannot_open_a_session(tls_verifier: InProcessVerifier,
                                                             pki: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from verifier.pki.authority import _key_pem, _leaf, _load_ca

    # Signed by the right CA for client use, but without a station URI (an upload portal).
    cert, key = _leaf(*_load_ca(pki), "upload-portal", [x509.DNSName("portal.lebong.lan")],
                      ExtendedKeyUsageOID.CLIENT_AUTH)
    (pki / "portal.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (pki / "portal.key").write_bytes(_key_pem(key))
    portal = ClientTls(pki / CA_CERT, pki / "portal.pem", pki / "portal.key")
    assert health_status(tls_verifier.address, tls=portal) == \
        health_pb2.HealthCheckResponse.SERVING  # a valid client of this CA...
    m = Messages()
    error = refused(tls_verifier.address, portal, [anonymous_start(m)])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED  # ...but no station
    assert "does not identify a capture station" in error.details()
    assert tls_verifier.store.find_case(m.sid) is None


def test_capture_station_runs_a_session_over_mutual_tls(tls_verifier: InProcessVerifier,
                                                        pki: Path, tmp_path: Path) -> None:
    tls = station_tls(pki, "loket-2")
    config = SessionConfig(verifier_address=tls_verifier.address, tls=tls,
                           connect_deadline_s=30)
    with Spool(tmp_path / "spool.sqlite3") as spool:
        report = asyncio.run(StationSession(config, spool, application=application()).run())
        assert report.case_id and report.decision == "fail"  # nothing captured: incomplete
        assert tls_verifier.store.summary(report.case_id).station_id == "loket-2"
        # Twin: the same station claiming to be another is refused, not retried.
        claiming = SessionConfig(verifier_address=tls_verifier.address, tls=tls,
                                 station_id="loket-1", connect_deadline_s=30)
        with pytest.raises(SessionRejected, match="PERMISSION_DENIED"):
            asyncio.run(StationSession(claiming, spool, application=application()).run())


def test_serve_off_loopback_without_tls_refuses_to_start(tmp_path: Path, capsys) -> None:
    db = tmp_path / "c.sqlite3"
    assert verifier_main(["serve", "--listen", "0.0.0.0:0", "--db", str(db)]) == 2
    assert "refusing to listen on 0.0.0.0:0 without TLS" in capsys.readouterr().err


def test_insecure_flag_allows_plain_text_off_loopback_loudly(caplog) -> None:
    config = load_config()
    with pytest.raises(ValueError, match="without TLS"):
        listen_credentials(config, "[::]:50051")
    with pytest.raises(ValueError, match="without TLS"):
        listen_credentials(config, "verifier.example:50051")
    assert listen_credentials(config, "127.0.0.1:50051") is None  # loopback stays allowed
    assert listen_credentials(config, "localhost:50051") is None
    with caplog.at_level(logging.WARNING, logger="verifier.server.app"):
        assert listen_credentials(config, "0.0.0.0:50051", insecure=True) is None
    assert any("INSECURE" in r.getMessage() for r in caplog.records)


def test_partial_tls_configuration_is_refused(pki: Path) -> None:
    config = load_config(server={"tls_cert_file": str(pki / SERVER_CERT)})
    with pytest.raises(ValueError, match="missing tls_key_file, client_ca_file"):
        listen_credentials(config, "127.0.0.1:0")
    with pytest.raises(ValueError, match="missing --tls-key"):
        ClientTls.from_paths(pki / CA_CERT, pki / "stations" / "loket-1.pem", None)
    complete = load_config(server={
        "tls_cert_file": str(pki / SERVER_CERT), "tls_key_file": str(pki / SERVER_KEY),
        "client_ca_file": str(pki / CA_CERT)})
    assert listen_credentials(complete, "0.0.0.0:0") is not None


def test_pki_keys_are_private_and_a_station_gets_one_live_certificate(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    init_authority(d, ["verifier.lebong.example"])
    issued = issue_station(d, "loket-9")
    for key in (d / "ca.key", d / SERVER_KEY, issued.key_file):
        assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="revoke it first"):
        issue_station(d, "loket-9")
    revoke(d, station_id="loket-9")
    assert issue_station(d, "loket-9").serial != issued.serial
    with pytest.raises(ValueError, match="station id"):
        issue_station(d, "loket 9/../x")
    with pytest.raises(ValueError, match="already holds a CA"):
        init_authority(d, ["x"])
