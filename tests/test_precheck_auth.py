"""PrecheckService credentials and share, through a real server and real channels: API keys
on plain text, precheck and station certificates on mutual TLS, a rate per caller, and a
flood of uploads that must not starve a counter session. Every refusal has a served twin."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.complete_case import Session as Messages
from tests.complete_case import frame_jpeg
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from tests.precheck_credentials import Credentials, keyed_verifier
from lebong_contract.api.v1 import capture_pb2_grpc, precheck_pb2, precheck_pb2_grpc
from verifier.cases.store import CaseStore
from verifier.cli import main as verifier_main
from verifier.config import load_config
from verifier.pki.authority import CA_CERT, issue_precheck_client, revoke
from lebong_contract.client_tls import ClientTls
from verifier.server.api_keys import add_key, read_keys, remove_key
from verifier.server.runtime import Runtime

COUNTER = precheck_pb2.PROFILE_COUNTER


def photo(photo_id: str = "p") -> precheck_pb2.PhotoRequest:
    return precheck_pb2.PhotoRequest(photo_id=photo_id, image=frame_jpeg(), profile=COUNTER)


def check(address: str, key: str | None = None, tls: ClientTls | None = None,
          request: precheck_pb2.PhotoRequest | None = None) -> precheck_pb2.PhotoReport:
    channel = (grpc.insecure_channel(address) if tls is None
               else grpc.secure_channel(address, tls.credentials()))
    metadata = (("x-api-key", key),) if key is not None else None
    with channel:
        return precheck_pb2_grpc.PrecheckServiceStub(channel).CheckPhoto(
            request or photo(), metadata=metadata, timeout=60)


def refused(address: str, key: str | None = None, tls: ClientTls | None = None,
            request: precheck_pb2.PhotoRequest | None = None) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        check(address, key, tls, request)
    return info.value


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("keys") / "precheck-keys.txt"
    return path, {name: add_key(path, name) for name in ("portal", "kiosk", "booth")}


@pytest.fixture(scope="module")
def plain(keys: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[InProcessVerifier]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    v = InProcessVerifier(url, load_config(store={"url": url},
                                           precheck={"api_keys_file": str(keys[0])}))
    yield v
    v.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = local_authority(tmp_path_factory.mktemp("pki"), ("loket-1",))
    for client in ("portal", "booth"):
        issue_precheck_client(d, client)
    return d


def client_tls(pki: Path, folder: str, name: str) -> ClientTls:
    return ClientTls(pki / CA_CERT, pki / folder / f"{name}.pem", pki / folder / f"{name}.key")


@pytest.fixture(scope="module")
def mtls(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVerifier]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    v = InProcessVerifier(url, load_config(store={"url": url}, server={
        **mutual_tls(pki)}))
    yield v
    v.stop()


def test_api_key_is_required_and_checked(plain: InProcessVerifier,
                                         keys: tuple[Path, dict[str, str]]) -> None:
    error = refused(plain.address)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "x-api-key" in error.details() and "--precheck-client" in error.details()
    wrong = keys[1]["portal"][:-2] + "xx"
    error = refused(plain.address, key=wrong)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "not valid" in error.details()
    with grpc.insecure_channel(plain.address) as ch:
        with pytest.raises(grpc.RpcError) as info:
            list(precheck_pb2_grpc.PrecheckServiceStub(ch).CheckPhotos(
                iter([photo("1")]), timeout=60))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Twins: the genuine key, on both methods.
    report = check(plain.address, key=keys[1]["portal"])
    assert report.compliant and report.photo_id == "p"
    with grpc.insecure_channel(plain.address) as ch:
        reports = list(precheck_pb2_grpc.PrecheckServiceStub(ch).CheckPhotos(
            iter([photo("1"), photo("2")]), metadata=(("x-api-key", keys[1]["kiosk"]),),
            timeout=60))
    assert [r.photo_id for r in reports] == ["1", "2"] and reports[1].compliant


def test_a_removed_key_is_refused_without_a_restart(plain: InProcessVerifier,
                                                    keys: tuple[Path, dict[str, str]]) -> None:
    path, issued = keys
    bad = junk()
    # Past the credentials check, the junk image is what is refused.
    assert refused(plain.address, key=issued["booth"], request=bad).code() == \
        grpc.StatusCode.INVALID_ARGUMENT
    remove_key(path, "booth")
    error = refused(plain.address, key=issued["booth"], request=bad)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused(plain.address, key=issued["portal"], request=bad).code() == \
        grpc.StatusCode.INVALID_ARGUMENT


def junk() -> precheck_pb2.PhotoRequest:
    return precheck_pb2.PhotoRequest(photo_id="junk", image=b"not an image")


def test_key_file_keeps_only_hashes_and_refuses_bad_lines(tmp_path: Path, capsys) -> None:
    path = tmp_path / "keys.txt"
    assert verifier_main(["precheck-keys", "add", "portal", "--file", str(path)]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) >= 40 and key not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    assert [k.name for k in read_keys(path)] == ["portal"]
    assert verifier_main(["precheck-keys", "add", "portal", "--file", str(path)]) == 2
    assert "already has a key" in capsys.readouterr().err
    path.write_text("portal admin " + "0" * 64 + "\n")
    with pytest.raises(ValueError, match="line 1: unknown role 'admin'"):
        read_keys(path)
    path.write_text("portal precheck abc\n")
    with pytest.raises(ValueError, match="line 1: the hash must be 64"):
        read_keys(path)


def test_pki_issues_a_precheck_client_certificate(tmp_path: Path, capsys) -> None:
    d = tmp_path / "pki"
    assert verifier_main(["pki", "init", str(d), "--host", "localhost"]) == 0
    assert verifier_main(["pki", "issue", str(d), "--precheck-client", "portal",
                          "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert '"precheck_client": "portal"' in out
    assert (d / "precheck" / "portal.key").stat().st_mode & 0o777 == 0o600
    assert verifier_main(["pki", "issue", str(d), "--precheck-client", "../portal"]) == 2
    assert "client name '../portal'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one role per certificate
        verifier_main(["pki", "issue", str(d), "--station-id", "loket-1",
                       "--precheck-client", "portal"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_precheck_certificate_may_check_photos_but_not_open_a_session(
        mtls: InProcessVerifier, pki: Path) -> None:
    portal = client_tls(pki, "precheck", "portal")
    assert check(mtls.address, tls=portal).compliant
    with grpc.secure_channel(mtls.address, portal.credentials()) as ch:
        with pytest.raises(grpc.RpcError) as info:
            list(capture_pb2_grpc.CaptureServiceStub(ch).Session(
                iter([Messages().start()]), timeout=60))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "does not identify a capture station" in info.value.details()
    # A station may pre-check too (an officer checks a photo at the counter).
    station = client_tls(pki, "stations", "loket-1")
    assert check(mtls.address, tls=station).compliant


def test_certificate_for_neither_role_is_refused(mtls: InProcessVerifier, pki: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from verifier.pki.authority import _key_pem, _leaf, _load_ca

    cert, key = _leaf(*_load_ca(pki), "printer", [x509.DNSName("printer.lebong.lan")],
                      ExtendedKeyUsageOID.CLIENT_AUTH)
    (pki / "printer.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (pki / "printer.key").write_bytes(_key_pem(key))
    printer = ClientTls(pki / CA_CERT, pki / "printer.pem", pki / "printer.key")
    error = refused(mtls.address, tls=printer, request=junk())
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "neither a capture station's nor a precheck client's" in error.details()


def test_revoked_precheck_client_is_refused(mtls: InProcessVerifier, pki: Path) -> None:
    booth = client_tls(pki, "precheck", "booth")
    assert refused(mtls.address, tls=booth, request=junk()).code() == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert verifier_main(["pki", "revoke", str(pki), "--precheck-client", "booth"]) == 0
    error = refused(mtls.address, tls=booth, request=junk())
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in error.details()
    with pytest.raises(ValueError, match="revoke it first"):
        issue_precheck_client(pki, "portal")
    assert revoke(pki, precheck_client="booth").revoked_count == 1  # idempotent


def test_a_caller_over_its_photo_rate_is_refused_while_another_is_served(
        tmp_path: Path) -> None:
    # Models are not needed: a call past the rate check meets "still loading".
    with keyed_verifier(tmp_path, load=False, precheck={
            "photos_per_minute": 3.0, "photo_burst": 2}) as (v, credentials):
        fast = credentials[0][1]
        other = add_key(Path(v.config.precheck.api_keys_file), "other")
        for _ in range(2):
            assert refused(v.address, key=fast).code() == grpc.StatusCode.UNAVAILABLE
        error = refused(v.address, key=fast)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "key:portal is over its rate of 3 photos a minute" in error.details()
        assert "photos_per_minute" in error.details()
        assert refused(v.address, key=other).code() == grpc.StatusCode.UNAVAILABLE


def test_precheck_share_must_leave_the_counters_a_thread(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with pytest.raises(ValueError, match=r"max_concurrent \(2\) must be below"):
        Runtime(config=load_config(precheck={"max_concurrent": 2}), store=store)
    runtime = Runtime(config=load_config(precheck={"max_concurrent": 1}), store=store)
    runtime.executor.shutdown()
    store.close()


def test_precheck_flood_does_not_starve_a_counter_session(tmp_path: Path) -> None:
    """Eight uploaders hammer PrecheckService while a counter runs a session. Without the
    share the flood would fill the work queue (2 threads + 2 waiting) and the counter's
    messages would be refused WORK_QUEUE_FULL; with it the counter gets every ack and its
    verdict, and the flood is told to come back (RESOURCE_EXHAUSTED)."""
    stop = threading.Event()
    outcomes: Counter[str] = Counter()

    def flood(v: InProcessVerifier, credentials: Credentials) -> None:
        with grpc.insecure_channel(v.address) as ch:
            stub = precheck_pb2_grpc.PrecheckServiceStub(ch)
            while not stop.is_set():
                try:
                    stub.CheckPhoto(photo(), metadata=credentials, timeout=60)
                    outcomes["ok"] += 1
                except grpc.RpcError as exc:
                    outcomes[exc.code().name] += 1
                    if "photo pre-checks" not in (exc.details() or ""):
                        outcomes["other:" + (exc.details() or "")] += 1

    with keyed_verifier(tmp_path, server={"analysis_threads": 2, "max_queued_tasks": 2},
                        precheck={"max_concurrent": 1, "max_waiting": 2,
                                  "photos_per_minute": 60_000.0, "photo_burst": 1000}
                        ) as (v, credentials):
        uploaders = [threading.Thread(target=flood, args=(v, credentials)) for _ in range(8)]
        try:
            for t in uploaders:
                t.start()
            time.sleep(2.0)  # the flood is on before the applicant sits down
            m = Messages()
            messages = [m.start(), *[m.frame(frame_jpeg()) for _ in range(4)], m.finish()]
            with grpc.insecure_channel(v.address) as ch:
                replies = list(capture_pb2_grpc.CaptureServiceStub(ch).Session(
                    iter(messages), timeout=120))
        finally:
            stop.set()
            for t in uploaders:
                t.join(60)
    kinds = [r.WhichOneof("payload") for r in replies]
    errors = [r.error.status.message for r in replies if r.WhichOneof("payload") == "error"]
    assert errors == []
    assert [r.ack.sequence for r in replies if r.WhichOneof("payload") == "ack"] == \
        [1, 2, 3, 4, 5, 6]
    assert "verdict" in kinds
    assert outcomes["ok"] >= 1 and outcomes["RESOURCE_EXHAUSTED"] >= 1, outcomes
    assert not [k for k in outcomes if k.startswith("other:")], outcomes
