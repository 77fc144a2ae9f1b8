"""The SBI 2.0 client against the simulator over real HTTP: discovery, signed and chained
records, refusal of tampered records, busy and timed-out devices, and a whole station session
through the real verifier in which one finger pressed for two slots is flagged."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from capture_station.errors import ScannerError
from capture_station.finger_exceptions import parse_finger_exception
from capture_station.sbi_sim import (
    SbiServer,
    SbiSimulator,
    SimulatorSettings,
    folder_presses,
    synthetic_presses,
)
from capture_station.scanners import open_scanner
from capture_station.scanners.sbi import (
    GENESIS_HASH,
    SbiDeviceBusy,
    SbiRecordRefused,
    SbiScanner,
    SbiTimeout,
    chain_hash,
    discover,
)
from capture_station.session import SessionConfig, StationSession
from capture_station.spool import Spool
from tests.harness import InProcessVerifier
from lebong_contract.api.v1 import types_pb2
from verifier.synthetic.fingerprints import encode_png, impression

FAST = SimulatorSettings(press_delay_s=0.01)


def _fixed_score(score: int):  # type: ignore[no-untyped-def]
    return lambda image: score


@pytest.fixture
def device() -> SbiServer:
    with SbiServer(SbiSimulator(synthetic_presses(person=3), FAST)) as server:
        yield server


def test_discovery_info_and_a_verified_capture(device: SbiServer, tmp_path: Path) -> None:
    found = [d for d in discover(ports=range(4501, 4601)) if d.port == device.port]
    assert found and found[0].status == "Ready"
    assert found[0].public_key == device.simulator.public_key
    trust = tmp_path / "device.key"
    device.write_trust_file(trust)
    scanner = open_scanner(f"sbi://127.0.0.1:{device.port}?score=30&trust={trust}")
    assert isinstance(scanner, SbiScanner)
    first = scanner.best_capture(2)
    second = scanner.best_capture(7)
    # The image is the synthetic person's right index, and the device scored it with NFIQ 2.
    assert first.image == encode_png(impression(32, 0)) and first.position == 2
    assert 0 < scanner.attempts[0].quality_score <= 100
    # Each kept record travels with its image and chains to the one kept before it.
    assert first.sbi_record is not None and second.sbi_record is not None
    assert first.sbi_record.previous_hash == GENESIS_HASH
    assert first.sbi_record.hash == chain_hash(GENESIS_HASH, first.image)
    assert second.sbi_record.previous_hash == first.sbi_record.hash
    assert second.sbi_record.device_public_key == device.simulator.public_key
    assert scanner._previous_hash == chain_hash(first.sbi_record.hash, second.image)


def test_capture_retries_until_the_requested_score_and_keeps_the_best(tmp_path: Path) -> None:
    scores = iter([10, 30, 20])
    simulator = SbiSimulator(synthetic_presses(person=4), SimulatorSettings(
        press_delay_s=0.01, max_presses=1), quality=lambda image: next(scores))
    with SbiServer(simulator) as server:
        scanner = SbiScanner(port=server.port, requested_score=50, retries=2)
        best = scanner.best_capture(1)
    assert best.image == encode_png(impression(41, 1))  # the second press scored 30
    assert scanner.attempts[0].attempts == 3 and scanner.attempts[0].quality_score == 30
    # Every attempt chained to the last kept record; the best is what the next one follows.
    assert best.sbi_record is not None and best.sbi_record.previous_hash == GENESIS_HASH
    assert scanner._previous_hash == best.sbi_record.hash


def test_a_key_other_than_the_trusted_one_is_refused(device: SbiServer, tmp_path: Path) -> None:
    other = SbiSimulator(synthetic_presses(), FAST)
    with pytest.raises(SbiRecordRefused, match="not in the trust file"):
        SbiScanner(port=device.port, trusted_keys={other.public_key})
    # The twin: a trust file listing both keys (and a comment) admits the device.
    trust = tmp_path / "devices.key"
    trust.write_text(f"# counter 1\n{other.public_key}\n\n{device.simulator.public_key}  # 2\n")
    assert open_scanner(f"sbi://127.0.0.1:{device.port}?trust={trust}").device.port == \
        device.port
    trust.write_text("not a key\n")
    with pytest.raises(ScannerError, match="line 1: not a base64 Ed25519 key"):
        open_scanner(f"sbi://127.0.0.1:{device.port}?trust={trust}")


@pytest.mark.parametrize(("tamper", "message"), [
    ("signature", "signature does not verify"), ("chain", "breaks the session's hash chain")])
def test_tampered_records_are_refused(tamper: str, message: str) -> None:
    simulator = SbiSimulator(synthetic_presses(), SimulatorSettings(press_delay_s=0.01,
                                                                    tamper=tamper),
                             quality=_fixed_score(60))
    with SbiServer(simulator) as server:
        scanner = SbiScanner(port=server.port)
        with pytest.raises(SbiRecordRefused, match=message):
            scanner.capture(2)
        assert scanner._previous_hash == GENESIS_HASH  # a refused record does not advance it


def test_a_device_that_cannot_capture_in_time_reports_a_timeout() -> None:
    simulator = SbiSimulator(synthetic_presses(), SimulatorSettings(press_delay_s=1.0),
                             quality=_fixed_score(60))
    with SbiServer(simulator) as server:
        scanner = SbiScanner(port=server.port, timeout_s=0.3)
        with pytest.raises(SbiTimeout, match="701"):
            scanner.capture(2)


def test_a_device_that_hangs_is_given_up_on() -> None:
    release = threading.Event()

    def stuck(image: bytes) -> int:
        release.wait(10)
        return 60

    with SbiServer(SbiSimulator(synthetic_presses(), FAST, quality=stuck)) as server:
        scanner = SbiScanner(port=server.port, timeout_s=0.2, answer_grace_s=0.3)
        try:
            with pytest.raises(SbiTimeout, match="did not answer"):
                scanner.capture(2)
            # While the first capture hangs, the device is busy for everyone else.
            with pytest.raises(SbiDeviceBusy, match="703"):
                SbiScanner(port=server.port).capture(3)
        finally:
            release.set()


def test_bad_uris_and_exceptions_are_reported_clearly() -> None:
    with pytest.raises(ScannerError, match="unknown option"):
        open_scanner("sbi://127.0.0.1:4599?colour=blue")
    with pytest.raises(ScannerError, match="unreachable"):
        open_scanner("sbi://127.0.0.1:9", dev=True)
    with pytest.raises(ScannerError, match="reason must be one of"):
        parse_finger_exception("2=lost")


def test_station_session_over_sbi_flags_one_finger_in_two_slots(
        tmp_path: Path, verifier: InProcessVerifier) -> None:
    fingers = tmp_path / "fingers"
    fingers.mkdir()
    # Right index and right middle are two presses of the same finger; left index differs.
    (fingers / "02.png").write_bytes(encode_png(impression(501, 0)))
    (fingers / "03.png").write_bytes(encode_png(impression(501, 1)))
    (fingers / "07.png").write_bytes(encode_png(impression(502, 0)))
    with SbiServer(SbiSimulator(folder_presses(fingers), FAST)) as server:
        trust = tmp_path / "device.key"
        server.write_trust_file(trust)
        bandaged = parse_finger_exception("right_thumb=bandaged:luka bakar")
        scanner = SbiScanner(port=server.port, positions=(1, 2, 3, 7),
                             exceptions=[bandaged.position], requested_score=30,
                             trusted_keys={trust.read_text().strip()})
        session = StationSession(
            SessionConfig(verifier_address=verifier.address, station_id="loket-1",
                          officer_id="p-1", connect_deadline_s=60),
            Spool(tmp_path / "spool.sqlite3"),
            application=types_pb2.ApplicationData(full_name="SITI AMINAH",
                                                  nik="1707015506900001"),
            scanner=scanner, finger_exceptions=[bandaged])
        report = asyncio.run(session.run())
    assert report.fingerprints_sent == 3
    same = [f for f in report.flags if f.rule_id == "fingerprint.same_finger_two_slots"]
    assert len(same) == 1 and same[0].evidence["positions"] == "2,3"
    assert report.decision == "fail"
    kinds = [m.kind for m in verifier.store.contents(report.case_id).messages]
    assert kinds.count("fingerprint_exception") == 1
    records = [m.result["record"] for m in verifier.store.contents(report.case_id).messages
               if m.kind == "fingerprint"]
    assert all(r["template_iso19794_2_b64"] for r in records)


def test_sbi_sim_command_refuses_a_missing_folder(tmp_path: Path) -> None:
    from capture_station.cli import main

    assert main(["sbi-sim", "--dev", "--images", str(tmp_path / "missing")]) == 2
    (tmp_path / "notes.txt").write_text("no images here")
    assert main(["sbi-sim", "--dev", "--images", str(tmp_path)]) == 2


def test_sbi_sim_command_needs_dev_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before it listens (its twin with --dev is the test above, and the demo)."""
    from capture_station.cli import main

    assert main(["sbi-sim", "--synthetic"]) == 2
    assert "development and training: run it with --dev" in capsys.readouterr().err
