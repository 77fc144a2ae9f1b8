"""Several verifier replicas behind nginx (deploy/nginx, tools/nginx_conf.py, tools/cluster.py):
a real nginx from Debian in front of a real verifier with mutual TLS on both sides. The station
certificate nginx verified reaches the replica, which believes it from the proxy's certificate
only; officer tokens stay bound to the station; revocation holds without an nginx reload;
health follows the store; and the local cluster loses and duplicates nothing when a replica is
killed. Every refusal has a twin that is accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import grpc
import psycopg
from cryptography import x509
import pytest
from grpc_health.v1 import health_pb2

from tests.complete_case import Session as Messages
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from tests.postgres_server import postgres_bin
from tests.test_mtls import acks, station_tls
from tests.test_officer_sign_in import reason, start_with
from tools.cluster import Plan, Replica, run_cluster
from tools.nginx_conf import NGINX, ProxySite, check, render, write
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from verifier.cases.crypto import generate_ring, write_key_file
from verifier.cli import main as verifier_main
from verifier.config import load_config
from verifier.pki.authority import CA_CERT, PROXIES, issue_proxy, revoke
from lebong_contract.client_tls import ClientTls
from verifier.server.client_auth import FORWARDED_CERT_METADATA
from lebong_contract.probe import free_port, health_status

needs_nginx = pytest.mark.skipif(not NGINX.exists(), reason="nginx absent (Debian's nginx-light)")

OFFICER, PASSWORD = "petugas-lb", "kata-sandi-lb-2026"
PROXY = "lb-1"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = local_authority(tmp_path_factory.mktemp("pki"), ("loket-1", "loket-2", "loket-3"))
    issue_proxy(folder, PROXY)
    return folder


def proxy_tls(pki: Path) -> ClientTls:
    return ClientTls(pki / CA_CERT, pki / PROXIES / f"{PROXY}.pem", pki / PROXIES / f"{PROXY}.key")


@pytest.fixture(scope="module")
def replica(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVerifier]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    v = InProcessVerifier(url, load_config(store={"url": url}, server=mutual_tls(pki)))
    v.store.add_user(OFFICER, PASSWORD, "officer")
    yield v
    v.stop()


def site(pki: Path, replicas: tuple[str, ...], run_dir: Path) -> ProxySite:
    return ProxySite.from_pki(pki, PROXY, listen=f"127.0.0.1:{free_port()}", replicas=replicas,
                              upstream_name="localhost", run_dir=run_dir)


@pytest.fixture(scope="module")
def proxy(pki: Path, replica: InProcessVerifier, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[str]:
    """nginx in front of the replica; its address."""
    work = tmp_path_factory.mktemp("nginx")
    s = site(pki, (replica.address,), work / "run")
    conf = write(s, work / "nginx.conf")
    nginx = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(s.run_dir), "-e",
                              str(s.run_dir / "error.log"), "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 20
        while health_status(s.listen, tls=station_tls(pki, "loket-1")) is None:
            assert time.monotonic() < deadline, (s.run_dir / "error.log").read_text()
            time.sleep(0.1)
        yield s.listen
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(20)


def sign_in(address: str, tls: ClientTls) -> str:
    with grpc.secure_channel(address, tls.credentials()) as channel:
        return capture_pb2_grpc.CaptureServiceStub(channel).SignIn(capture_pb2.SignInRequest(
            username=OFFICER, password=PASSWORD), timeout=30).officer_token


def session(address: str, tls: ClientTls, messages: list[capture_pb2.StationMessage],
            metadata: tuple[tuple[str, str], ...] = ()) -> list[capture_pb2.VerifierMessage]:
    with grpc.secure_channel(address, tls.credentials()) as channel:
        return list(capture_pb2_grpc.CaptureServiceStub(channel).Session(
            iter(messages), timeout=30, metadata=metadata))


def refused(address: str, tls: ClientTls, messages: list[capture_pb2.StationMessage],
            metadata: tuple[tuple[str, str], ...] = ()) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        session(address, tls, messages, metadata)
    return info.value


def forwarded(pki: Path, station: str) -> tuple[tuple[str, str], ...]:
    """What nginx sends: the station's certificate, URL-encoded ($ssl_client_escaped_cert)."""
    pem = (pki / "stations" / f"{station}.pem").read_text()
    return ((FORWARDED_CERT_METADATA, quote(pem, safe="")),)


def test_a_proxy_gets_one_live_certificate_from_the_cli(tmp_path: Path) -> None:
    pki = local_authority(tmp_path / "pki", ())
    assert verifier_main(["pki", "issue", str(pki), "--proxy", "lb-9"]) == 0
    cert = pki / PROXIES / "lb-9.pem"
    assert x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier) == ["urn:lebong-verifier:proxy:lb-9"]
    assert (pki / PROXIES / "lb-9.key").stat().st_mode & 0o777 == 0o600
    # A second live certificate for the same proxy is refused, naming how to revoke the first.
    with pytest.raises(ValueError, match="revoke it first .*--proxy lb-9"):
        issue_proxy(pki, "lb-9")
    assert verifier_main(["pki", "revoke", str(pki), "--proxy", "lb-9"]) == 0
    assert issue_proxy(pki, "lb-9").cert_file == cert
    with pytest.raises(ValueError, match="client name"):
        issue_proxy(pki, "lb 9; x")


@needs_nginx
def test_rendered_configuration_passes_nginx_t_and_bad_settings_are_refused(
        pki: Path, tmp_path: Path) -> None:
    good = site(pki, ("127.0.0.1:50061", "127.0.0.1:50062"), tmp_path / "run")
    check(write(good, tmp_path / "good.conf"), good.run_dir)
    text = (tmp_path / "good.conf").read_text()
    assert "grpc_pass grpcs://verifier_replicas;" in text
    assert "server 127.0.0.1:50062 max_fails=1 fail_timeout=10s;" in text
    assert "grpc_set_header x-client-cert $ssl_client_escaped_cert;" in text
    # A setting that would smuggle nginx syntax in is refused, naming the setting.
    with pytest.raises(ValueError, match="replica"):
        render(site(pki, ("127.0.0.1:50061; include /etc/passwd",), tmp_path / "run"))
    with pytest.raises(ValueError, match="at least one replica"):
        render(site(pki, (), tmp_path / "run"))
    # A configuration nginx itself refuses (no such proxy key) fails the check with its words.
    missing = ProxySite.from_pki(pki, "no-such-proxy", listen="127.0.0.1:50060",
                                 replicas=("127.0.0.1:50061",), upstream_name="localhost",
                                 run_dir=tmp_path / "run")
    with pytest.raises(ValueError, match="nginx -t refused .*no-such-proxy"):
        check(write(missing, tmp_path / "bad.conf"), missing.run_dir)


@needs_nginx
def test_the_officer_token_stays_bound_to_the_station_through_the_proxy(
        pki: Path, replica: InProcessVerifier, proxy: str) -> None:
    token = sign_in(proxy, station_tls(pki, "loket-1"))
    m = Messages()
    assert acks(session(proxy, station_tls(pki, "loket-1"), [start_with(m, token)])) == [1]
    case = replica.store.find_case(m.sid)
    assert case is not None
    summary = replica.store.summary(case.case_id)
    assert (summary.station_id, summary.officer_id) == ("loket-1", OFFICER)
    # Twin: another station through the same proxy cannot use that token.
    other = Messages()
    error = refused(proxy, station_tls(pki, "loket-2"), [start_with(other, token)])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "OFFICER_TOKEN_OTHER_STATION"
    assert replica.store.find_case(other.sid) is None


def test_a_forwarded_certificate_counts_only_from_the_proxy(
        pki: Path, replica: InProcessVerifier) -> None:
    token = sign_in(replica.address, station_tls(pki, "loket-1"))
    # loket-2 talks to the replica directly, claiming loket-1's certificate: ignored.
    m = Messages()
    start = start_with(m, token)
    error = refused(replica.address, station_tls(pki, "loket-2"), [start],
                    forwarded(pki, "loket-1"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "OFFICER_TOKEN_OTHER_STATION"
    assert replica.store.find_case(m.sid) is None
    # Twin: from the proxy's certificate the forwarded one is the caller.
    assert acks(session(replica.address, proxy_tls(pki), [start],
                        forwarded(pki, "loket-1"))) == [1]
    assert replica.store.summary(replica.store.find_case(m.sid).case_id).station_id == "loket-1"
    # Something that is not a certificate, even from the proxy, is refused.
    error = refused(replica.address, proxy_tls(pki), [start_with(Messages(), token)],
                    ((FORWARDED_CERT_METADATA, "not-a-certificate"),))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "unreadable certificate" in error.details()
    # The proxy's own certificate names no station: no session in its own name.
    error = refused(replica.address, proxy_tls(pki), [start_with(Messages(), token)])
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_an_unreadable_forwarded_certificate_is_refused_without_a_revocation_list(
        pki: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    server = {k: v for k, v in mutual_tls(pki).items() if k != "crl_file"}
    v = InProcessVerifier(url, load_config(store={"url": url}, server=server), load=False)
    try:
        error = refused(v.address, proxy_tls(pki), [start_with(Messages(), "token")],
                        ((FORWARDED_CERT_METADATA, "not-a-certificate"),))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "unreadable certificate" in error.details()
        # Twin: a real forwarded certificate passes (to the next check: models not loaded).
        error = refused(v.address, proxy_tls(pki), [start_with(Messages(), "token")],
                        forwarded(pki, "loket-1"))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "loading its models" in error.details()
    finally:
        v.stop()


@needs_nginx
def test_a_revoked_station_is_refused_behind_the_proxy_without_reloading_nginx(
        pki: Path, replica: InProcessVerifier, proxy: str) -> None:
    tls = station_tls(pki, "loket-3")
    token = sign_in(proxy, tls)  # accepted before the revocation
    revoke(pki, station_id="loket-3")  # nginx keeps its old list until a reload
    m = Messages()
    error = refused(proxy, tls, [start_with(m, token)])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in error.details()
    assert replica.store.find_case(m.sid) is None
    # Twin: a station in good standing still gets through.
    token = sign_in(proxy, station_tls(pki, "loket-1"))
    assert acks(session(proxy, station_tls(pki, "loket-1"),
                        [start_with(Messages(), token)])) == [1]


def _database_reachable(server_port: int, name: str, allowed: bool) -> None:
    """Open or close a PostgreSQL database to new connections, ending the open ones."""
    with psycopg.connect(f"host=127.0.0.1 port={server_port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s", (name,))


def _health_becomes(address: str, tls: ClientTls, status: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if health_status(address, tls=tls) == status:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_health_is_not_serving_while_the_store_is_unreachable(
        pki: Path, postgres_server, tmp_path: Path) -> None:  # noqa: ANN001 - a fixture
    url = postgres_server.new_database()
    write_key_file(tmp_path / "keys", generate_ring())
    config = tmp_path / "verifier.toml"
    config.write_text("\n".join([
        "[store]", f'url = "{url}"', "[server]",
        *(f'{k} = "{v}"' for k, v in mutual_tls(pki).items()), "health_store_check_s = 0.5",
        "[cases]", f'key_file = "{tmp_path / "keys"}"']) + "\n")
    tls = proxy_tls(pki)
    r = Replica(0, config, tmp_path, tls, dict(os.environ, OMP_THREAD_LIMIT="1"))
    r.start()
    try:
        r.wait_serving()
        _database_reachable(postgres_server.port, url.rsplit("/", 1)[1], allowed=False)
        assert _health_becomes(r.address, tls, health_pb2.HealthCheckResponse.NOT_SERVING, 10)
        # Twin: the store back, the replica serves again.
        _database_reachable(postgres_server.port, url.rsplit("/", 1)[1], allowed=True)
        assert _health_becomes(r.address, tls, health_pb2.HealthCheckResponse.SERVING, 10)
    finally:
        r.stop()
    assert "case store unreachable" in r.log.read_text()


@needs_nginx
@pytest.mark.slow
@pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL absent")
def test_a_replica_killed_mid_session_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = run_cluster(Plan(stations=4, kill_after_s=3.0, restart_after_s=3.0,
                              timeout_s=600.0), tmp_path)
    assert result.kill_at > 0 and result.restart_at > 0  # the kill happened mid-run
    assert [s.decision is not None for s in result.stations] == [True] * 4
    assert result.lost == 0 and result.duplicates == 0
    assert all(s.sent > 0 and s.committed == s.sent for s in result.stations)
    assert sum(s.reconnects > 0 for s in result.stations) >= 1  # some stream did break
