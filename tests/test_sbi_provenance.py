"""Fingerprint provenance through the real gRPC server with mutual TLS, the real store and
NBIS: the verifier checks the signed SBI record each print comes with. An unsigned print, a
device not on the trust list, a broken chain, a genuine record replayed from another
session, a forged record and an image swapped under a genuine record are flagged in the
verdict; their twin, the same prints with genuine records of a trusted device, is
attributed. A station session through the SBI simulator forwards the records."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from capture_station.sbi_sim import SbiServer, SbiSimulator, SimulatorSettings, folder_presses
from capture_station.scanners.sbi import SbiScanner, read_trust_file
from capture_station.session import SessionConfig, StationSession
from capture_station.spool import Spool
from tests.complete_case import Session, complete_session, finger_png
from tests.harness import InProcessVerifier, local_authority, mutual_tls
from tests.test_mtls import anonymous_start, run_stream, station_tls
from tests.test_server import of
from lebong_contract.api.v1 import capture_pb2, types_pb2
from verifier.config import Config, load_config
from lebong_contract.sbi_record import (BIO_SUBTYPES, GENESIS_HASH, chain_hash,
                                        public_key_text, sign_jws)

PROVENANCE_RULES = {"fingerprint.unattributed", "fingerprint.forged_record"}


class Device:
    """A fingerprint device's key and record chain, as the SBI simulator signs them."""

    def __init__(self, device_id: str = "LEBONG-TEST-0001") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public_key = public_key_text(self.key.public_key())
        self.device_id = device_id
        self.previous = GENESIS_HASH

    def record(self, image: bytes, position: int, sid: str) -> capture_pb2.SbiCaptureRecord:
        """The next record of the chain, captured for session `sid`."""
        payload = {"digitalId": self.device_id, "bioType": "Finger",
                   "bioSubType": BIO_SUBTYPES[position], "qualityScore": 60, "ppi": 500,
                   "transactionId": f"{sid}/{uuid.uuid4()}",
                   "bioValue": base64.b64encode(image).decode("ascii")}
        record = capture_pb2.SbiCaptureRecord(
            jws=sign_jws(payload, self.key), hash=chain_hash(self.previous, image),
            previous_hash=self.previous, device_public_key=self.public_key)
        self.previous = record.hash
        return record


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_authority(tmp_path_factory.mktemp("pki"), ("loket-1",))


@pytest.fixture(scope="module")
def trusted() -> Device:
    return Device()


@pytest.fixture(scope="module")
def trust_file(tmp_path_factory: pytest.TempPathFactory, trusted: Device) -> Path:
    path = tmp_path_factory.mktemp("trust") / "devices.key"
    path.write_text(f"# counter devices\n{trusted.public_key}\n")
    return path


@pytest.fixture(scope="module")
def verifier(pki: Path, trust_file: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[InProcessVerifier]:
    """The deployment default (attestation required), with a device trust file and TLS."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.sqlite3'}"
    config = load_config(store={"url": url}, fingerprint={
        "device_trust_file": str(trust_file)}, server={
        **mutual_tls(pki),
        # Officer sign-in is tests/test_officer_sign_in.py's.
        "require_officer_sign_in": False})
    assert config.fingerprint.require_device_attestation  # the default under test
    v = InProcessVerifier(url, config)
    yield v
    v.stop()


def session_verdict(verifier: InProcessVerifier, pki: Path,
                    messages: list[capture_pb2.StationMessage]
                    ) -> tuple[capture_pb2.Verdict, list[capture_pb2.ItemResult]]:
    replies = run_stream(verifier.address, station_tls(pki, "loket-1"), messages)
    (verdict,) = of(replies, "verdict")
    return verdict, of(replies, "item_result")


def prints_session(s: Session,
                   records: dict[int, tuple[bytes, capture_pb2.SbiCaptureRecord | None]]
                   ) -> list[capture_pb2.StationMessage]:
    """Start, the prints (position -> image and its record), Finish."""
    messages = [anonymous_start(s)]
    for position, (image, record) in records.items():
        message = s.fingerprint(image, position)
        if record is not None:
            message.fingerprint.sbi_record.CopyFrom(record)
        messages.append(message)
    messages.append(s.finish())
    return messages


def attestation(items: list[capture_pb2.ItemResult]) -> list[int]:
    return [c.outcome for i in items for c in i.checks if c.requirement == "device_attestation"]


def flags(verdict: capture_pb2.Verdict) -> dict[str, capture_pb2.Flag]:
    return {f.rule_id: f for f in verdict.flags if f.rule_id in PROVENANCE_RULES}


def test_genuine_records_of_a_trusted_device_are_attributed(
        verifier: InProcessVerifier, pki: Path, trusted: Device) -> None:
    device = Device()
    device.key, device.public_key = trusted.key, trusted.public_key
    a, b = finger_png(801), finger_png(802)
    s = Session()
    verdict, items = session_verdict(verifier, pki, prints_session(
        s, {2: (a, device.record(a, 2, s.sid)), 7: (b, device.record(b, 7, s.sid))}))
    assert attestation(items) == [types_pb2.OUTCOME_PASS] * 2
    assert not flags(verdict), verdict.flags


@pytest.mark.parametrize("case", ["unsigned", "unknown device", "broken chain", "replayed"])
def test_unattributed_prints_send_the_case_to_review(
        verifier: InProcessVerifier, pki: Path, trusted: Device, case: str) -> None:
    device = Device()
    if case in ("broken chain", "replayed"):  # the trusted device
        device.key, device.public_key = trusted.key, trusted.public_key
    a, b = finger_png(811), finger_png(812)
    s = Session()
    # "replayed": the trusted device's genuine records, captured for another session.
    sid = str(uuid.uuid4()) if case == "replayed" else s.sid
    first = None if case == "unsigned" else device.record(a, 2, sid)
    if case == "broken chain":
        device.record(finger_png(813), 3, sid)  # kept by the station, never sent
    verdict, items = session_verdict(verifier, pki, prints_session(
        s, {2: (a, first), 7: (b, None if case == "unsigned" else device.record(b, 7, sid))}))
    found = flags(verdict)
    assert set(found) == {"fingerprint.unattributed"}, verdict.flags
    flag = found["fingerprint.unattributed"]
    assert flag.severity == types_pb2.SEVERITY_REVIEW
    reasons = {"unsigned": "no_record", "unknown device": "unknown_device",
               "broken chain": "chain_broken", "replayed": "other_session"}
    assert flag.evidence["reasons"] == reasons[case]
    if case == "broken chain":  # only the print after the gap; the first one is attributed
        assert flag.evidence["positions"] == "7"
        assert attestation(items) == [types_pb2.OUTCOME_PASS, types_pb2.OUTCOME_UNKNOWN]
    else:
        assert flag.evidence["positions"] == "2,7"
        assert attestation(items) == [types_pb2.OUTCOME_UNKNOWN] * 2
    assert verdict.decision in (types_pb2.DECISION_REVIEW, types_pb2.DECISION_FAIL)


@pytest.mark.parametrize("case", ["forged signature", "image swapped", "finger relabelled"])
def test_records_that_contradict_the_print_fail_the_case(
        verifier: InProcessVerifier, pki: Path, trusted: Device, case: str) -> None:
    device = Device()
    device.key, device.public_key = trusted.key, trusted.public_key
    genuine, swapped = finger_png(821), finger_png(822)
    position = 2
    s = Session()
    record = device.record(genuine, position, s.sid)
    image = genuine
    if case == "forged signature":  # the quality score raised after signing
        header, body, signature = record.jws.split(".")
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(
            b'"qualityScore":60', b'"qualityScore":99')
        forged = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        record.jws = f"{header}.{forged}.{signature}"
    elif case == "image swapped":  # a genuine record, another person's print sent with it
        image = swapped
        record.hash = chain_hash(record.previous_hash, swapped)
    else:  # the right index's record sent as the left index
        position = 7
    verdict, items = session_verdict(verifier, pki,
                                     prints_session(s, {position: (image, record)}))
    found = flags(verdict)
    assert set(found) == {"fingerprint.forged_record"}, verdict.flags
    assert found["fingerprint.forged_record"].severity == types_pb2.SEVERITY_FAIL
    assert found["fingerprint.forged_record"].evidence["reasons"] == {
        "forged signature": "bad_signature", "image swapped": "image_differs",
        "finger relabelled": "finger_differs"}[case]
    assert attestation(items) == [types_pb2.OUTCOME_FAIL]
    assert verdict.decision == types_pb2.DECISION_FAIL


@pytest.mark.slow
def test_a_complete_case_with_attributed_prints_passes_and_unsigned_twin_goes_to_review(
        verifier: InProcessVerifier, pki: Path, trusted: Device) -> None:
    """The deployment default end to end: a complete case passes when every print is signed
    by a trusted device, and the same case with unsigned prints is held for review."""
    steady = verifier.config.photo.capture.steady_frames
    device = Device()
    device.key, device.public_key = trusted.key, trusted.public_key
    for signed in (True, False):
        # A NIK of its own: the other tests' sessions are no earlier record of it.
        s, messages = complete_session(steady, nik="1707014508900002")
        if signed:
            for m in messages:
                if m.WhichOneof("payload") == "fingerprint":
                    m.fingerprint.sbi_record.CopyFrom(
                        device.record(m.fingerprint.image, m.fingerprint.position, s.sid))
        verdict, _ = session_verdict(verifier, pki, messages)
        if signed:
            assert verdict.decision == types_pb2.DECISION_PASS, verdict.flags
        else:
            assert set(flags(verdict)) == {"fingerprint.unattributed"}
            assert verdict.decision == types_pb2.DECISION_REVIEW, verdict.flags


def test_station_forwards_the_records_of_a_trusted_simulator(
        verifier: InProcessVerifier, pki: Path, tmp_path: Path) -> None:
    """The station's own records reach the verifier: with the device in the verifier's trust
    list they are attributed; the same device unlisted is not (its twin)."""
    fingers = tmp_path / "fingers"
    fingers.mkdir()
    for position in (2, 7):
        (fingers / f"{position:02d}.png").write_bytes(finger_png(830 + position))
    trust_file = Path(verifier.config.fingerprint.device_trust_file)
    listed = trust_file.read_text()
    try:
        for trusted_by_verifier in (True, False):
            simulator = SbiSimulator(folder_presses(fingers), SimulatorSettings(
                press_delay_s=0.01), quality=lambda image: 60)
            with SbiServer(simulator) as server:
                station_trust = tmp_path / "station.key"
                server.write_trust_file(station_trust)
                trust_file.write_text(listed + (simulator.public_key + "\n"
                                                if trusted_by_verifier else ""))
                sid = str(uuid.uuid4())
                scanner = SbiScanner(port=server.port, positions=(2, 7),
                                     trusted_keys=read_trust_file(station_trust),
                                     session_id=sid)
                session = StationSession(
                    SessionConfig(verifier_address=verifier.address, officer_id="p-1",
                                  tls=station_tls(pki, "loket-1"), connect_deadline_s=60),
                    Spool(tmp_path / f"spool-{trusted_by_verifier}.sqlite3"),
                    application=types_pb2.ApplicationData(nik="1707015506900001"),
                    scanner=scanner, client_session_id=sid)
                report = asyncio.run(session.run())
            assert report.fingerprints_sent == 2
            rules = {f.rule_id for f in report.flags}
            if trusted_by_verifier:
                assert not rules & PROVENANCE_RULES, report.flags
            else:
                assert "fingerprint.unattributed" in rules
                flag = next(f for f in report.flags if f.rule_id == "fingerprint.unattributed")
                assert flag.evidence["reasons"] == "unknown_device"
    finally:
        trust_file.write_text(listed)


def test_without_required_attestation_only_forged_records_count(config: Config) -> None:
    """`require_device_attestation = false` (an office without SBI devices) drops the review
    for unattributed prints; a forged record still fails the case. Its twin, the default,
    is every test above."""
    from verifier.consistency.case_evidence import CaseEvidence, FingerCapture
    from verifier.consistency.fingerprint_rules import provenance_flags
    from verifier.fingerprint.provenance import Attribution, Provenance

    def capture(sequence: int, attribution: Attribution, why: str) -> FingerCapture:
        return FingerCapture(position=sequence, sequence=sequence, nfiq2=50, gate_passed=True,
                             template=None, provenance=Provenance(attribution, why, why))

    evidence = CaseEvidence(
        case_id="c", application={}, on_date=dt.date(2026, 11, 29), frames_received=0,
        capture=None, documents=(), exceptions=(), rejected=(), fingerprints=(
            capture(2, Attribution.UNATTRIBUTED, "no_record"),
            capture(3, Attribution.FORGED, "image_differs"),
            capture(4, Attribution.ATTRIBUTED, "attributed")))
    required = replace(config.fingerprint, require_device_attestation=True)
    assert {f.rule_id: f.evidence["positions"] for f in provenance_flags(evidence, required)} \
        == {"fingerprint.forged_record": "3", "fingerprint.unattributed": "2"}
    relaxed = replace(required, require_device_attestation=False)
    assert [f.rule_id for f in provenance_flags(evidence, relaxed)] == \
        ["fingerprint.forged_record"]
