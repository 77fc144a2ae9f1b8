"""`make demo`: a whole counter session on this machine, with no camera and no scanner.

Generates its inputs (a short video of an applicant walking up to the camera, made from
scikit-image's astronaut photo, and an application form), starts the verifier with its
embedded SQLite case store, runs a capture-station session against it, prints the live
guidance and the verdict, and says where the report is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from verifier.server.probe import free_port, wait_serving
from verifier.synthetic.frames import approach_sequence

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "build" / "demo"
FPS = 10


def write_video(path: Path, frames: list[np.ndarray]) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.sqlite3*"):
        stale.unlink()
    video = OUT / "applicant.avi"
    write_video(video, approach_sequence(6 * FPS))
    application = OUT / "application.json"
    application.write_text(json.dumps({
        "full_name": "SITI AMINAH", "nik": "1707014508900001", "date_of_birth": "1990-08-05",
        "place_of_birth": "MUARA AMAN", "sex": "female", "passport_type": "electronic"},
        indent=2))
    print(f"[demo] inputs generated in {OUT.relative_to(ROOT)}/ "
          f"(video {video.name}, {6 * FPS} frames at {FPS} fps; {application.name})")

    address = f"127.0.0.1:{free_port()}"
    log = open(OUT / "verifier.log", "w")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    verifier = subprocess.Popen(
        [sys.executable, "-m", "verifier.cli", "serve", "--listen", address,
         "--db", str(OUT / "cases.sqlite3")], cwd=ROOT, stdout=log, stderr=log, env=env)
    try:
        t0 = time.monotonic()
        wait_serving(address, timeout_s=60)
        print(f"[demo] verifier SERVING on {address} after {time.monotonic() - t0:.1f} s "
              f"(log: {(OUT / 'verifier.log').relative_to(ROOT)})")
        report = OUT / "report.json"
        station = subprocess.run(
            [sys.executable, "-m", "capture_station.cli", "run", "--verifier", address,
             "--camera", str(video), "--max-fps", "5", "--application", str(application),
             "--station-id", "lebong-loket-1", "--officer-id", "demo-officer",
             "--spool", str(OUT / "station-spool.sqlite3"), "--report", str(report)],
            cwd=ROOT, env=env)
        if station.returncode != 0:
            print(f"[demo] capture station failed with exit code {station.returncode}")
            return station.returncode
        print(f"[demo] verdict report: {report.relative_to(ROOT)}")
        print(f"[demo] case store: {(OUT / 'cases.sqlite3').relative_to(ROOT)}")
        return 0
    finally:
        verifier.send_signal(signal.SIGTERM)
        verifier.wait(30)


if __name__ == "__main__":
    sys.exit(main())
