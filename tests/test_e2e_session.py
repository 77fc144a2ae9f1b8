"""Station and verifier together, through real gRPC, real SQLite on both sides, and the real
decode gate and face detector: a whole session, a verifier killed mid-session, a network cut."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import cv2
import pytest

from capture_station.camera import OpenCVCamera
from capture_station.documents import DocumentScan
from capture_station.scanners import open_scanner
from capture_station.session import SessionConfig, SessionEvents, StationSession
from capture_station.spool import Spool
from tests.complete_case import application, finger_png, ktp_jpeg
from tests.harness import InProcessVerifier, SubprocessVerifier
from tests.netcut import CuttableProxy
from lebong_contract.api.v1 import types_pb2
from verifier.cases.store import CaseStore
from verifier.synthetic.frames import approach_sequence

FPS = 10
# Ten fingers, named as a folder scanner reads them (a position number, or a name).
FINGERS = ("01.png", "02_right_index.png", "03.png", "04.png", "05.png", "06.png",
           "07_left_index.png", "08.png", "09.png", "left_little.png")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    video = root / "applicant.avi"
    frames = approach_sequence(4 * FPS)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    fingers = root / "fingers"
    fingers.mkdir()
    for i, name in enumerate(FINGERS):  # a different generated finger in each slot
        (fingers / name).write_bytes(finger_png(600 + i))
    return {"video": video, "fingers": fingers}




class Recorder(SessionEvents):
    def __init__(self, trigger: str | None = None, action=None) -> None:  # type: ignore[no-untyped-def]
        self.guidance: list[int] = []
        self.accepted: list[int] = []
        self.reconnects = 0
        self._trigger, self._action, self._fired = trigger, action, False

    def _maybe_fire(self, event: str) -> None:
        if event == self._trigger and not self._fired:
            self._fired = True
            threading.Thread(target=self._action, daemon=True).start()

    def on_guidance(self, guidance) -> None:  # type: ignore[no-untyped-def]
        self.guidance.append(guidance.sequence)
        self._maybe_fire("guidance")

    def on_capture_accepted(self, accepted) -> None:  # type: ignore[no-untyped-def]
        self.accepted.append(accepted.sequence)
        self._maybe_fire("capture_accepted")

    def on_reconnecting(self, attempt: int, delay_s: float, reason: str) -> None:
        self.reconnects += 1


def run_station(address: str, spool_path: Path, inputs: dict[str, Path],
                events: SessionEvents) -> tuple[object, Spool]:
    spool = Spool(spool_path)
    session = StationSession(
        SessionConfig(verifier_address=address, station_id="loket-2", officer_id="p-1",
                      max_fps=FPS, connect_deadline_s=60, backoff_max_s=1.0),
        spool, application=application(), camera=OpenCVCamera(str(inputs["video"])),
        scanner=open_scanner(f"folder:{inputs['fingers']}", dev=True),
        documents=[DocumentScan(kind=types_pb2.DOCUMENT_KIND_KTP, image=ktp_jpeg(),
                                source="generated")],
        events=events)
    return asyncio.run(session.run()), spool


def assert_complete_and_unique(store: CaseStore, report) -> None:  # type: ignore[no-untyped-def]
    sequences = store.session_sequences(report.client_session_id)
    # Every spooled message reached the case store exactly once (the unique key would refuse a
    # second copy, so a gap is the failure to look for).
    assert sequences == list(range(1, len(sequences) + 1))
    counts: dict[str, int] = {}
    for m in store.contents(report.case_id).messages:
        counts[m.kind] = counts.get(m.kind, 0) + 1
    assert counts["start"] == 1 and counts["finish"] == 1
    assert counts["fingerprint"] == len(FINGERS)
    assert counts["document"] == 1
    assert store.verdict(report.case_id) is not None


def test_whole_session_against_the_real_verifier(tmp_path: Path, inputs: dict[str, Path],
                                                 verifier: InProcessVerifier) -> None:
    events = Recorder()
    report, spool = run_station(verifier.address, tmp_path / "spool.sqlite3", inputs, events)
    assert report.decision == "pass", report.flags
    assert events.accepted and events.guidance[0] < events.accepted[0]
    assert spool.pending_count() == 0
    assert_complete_and_unique(verifier.store, report)


@pytest.mark.slow
@pytest.mark.parametrize("trigger", ["guidance", "capture_accepted"])
def test_verifier_killed_and_restarted_mid_session(tmp_path: Path, inputs: dict[str, Path],
                                                   trigger: str) -> None:
    server = SubprocessVerifier(tmp_path / "cases.sqlite3")
    server.start()
    restarted = threading.Event()

    def kill_and_restart() -> None:
        server.kill()
        time.sleep(1.5)
        server.start()
        restarted.set()

    events = Recorder(trigger, kill_and_restart)
    try:
        report, spool = run_station(server.address, tmp_path / "spool.sqlite3", inputs, events)
        assert restarted.wait(30)
        assert events.reconnects >= 1
        assert report.case_id and spool.pending_count() == 0
        assert_complete_and_unique(CaseStore(f"sqlite:///{server.db_path}"), report)
    finally:
        assert server.terminate() == 0  # graceful shutdown exits cleanly


@pytest.mark.slow
def test_network_cut_is_survived_by_the_spool(tmp_path: Path, inputs: dict[str, Path],
                                               verifier: InProcessVerifier) -> None:
    proxy = CuttableProxy(int(verifier.address.rsplit(":", 1)[1]))

    def cut_for_a_while() -> None:
        proxy.cut()
        time.sleep(2.0)
        proxy.restore()

    events = Recorder("guidance", cut_for_a_while)
    report, spool = run_station(proxy.address, tmp_path / "spool.sqlite3", inputs, events)
    assert events.reconnects >= 1 and proxy.connections_accepted >= 2
    assert spool.pending_count() == 0
    assert_complete_and_unique(verifier.store, report)
    proxy.cut()
