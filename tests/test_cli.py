"""The two command-line programs, as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
from PIL import Image

from tests.harness import ROOT, InProcessVerifier
from verifier.synthetic.frames import framed_face


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_help_documents_every_subcommand() -> None:
    out = run("verifier.cli", "--help").stdout
    assert "serve" in out and "check-models" in out
    serve = run("verifier.cli", "serve", "--help").stdout
    assert "--listen" in serve and "--db" in serve
    station = run("capture_station.cli", "--help").stdout
    assert "run" in station and "resume" in station


def test_check_models_json(tmp_path: Path) -> None:
    result = run("verifier.cli", "check-models", "--json", str(tmp_path / "m.json"))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["models"] and all(m["ok"] for m in data["models"])


def test_serve_refuses_an_altered_model(tmp_path: Path) -> None:
    model = tmp_path / "landmarks.dat"
    model.write_bytes(b"not the model")
    registry = tmp_path / "registry.toml"
    registry.write_text(f'[models.face_landmarks_5]\npath = "{model}"\nsha256 = "{"0" * 64}"\n'
                        'licence = "x"\nsource = "x"\n'
                        'loader = "verifier.face.detection:load_shape_predictor"\n')
    config = tmp_path / "verifier.toml"
    config.write_text(f'models_registry = "{registry}"\n')
    result = run("verifier.cli", "--config", str(config), "serve", "--listen", "127.0.0.1:0",
                 "--db", str(tmp_path / "c.sqlite3"), timeout=60)
    assert result.returncode == 2
    assert "refusing to serve" in result.stderr and "sha256" in result.stderr


def test_station_cli_reports_the_verdict_as_json(tmp_path: Path,
                                                 verifier: InProcessVerifier) -> None:
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(5):
        writer.write(cv2.cvtColor(framed_face(), cv2.COLOR_RGB2BGR))
    writer.release()
    result = run("capture_station.cli", "run", "--verifier", verifier.address,
                 "--camera", str(video), "--spool", str(tmp_path / "spool.sqlite3"),
                 "--report", str(tmp_path / "report.json"), "--json", "-",
                 "--photo", str(tmp_path / "photo.jpg"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == json.loads((tmp_path / "report.json").read_text())
    assert report["decision"] == "fail"  # no KTP and no fingers were sent
    # Frames are sequences 2-6; the third ready frame in a row is captured.
    assert report["capture_accepted_sequence"] == 4
    assert "documents.ktp_missing" in {f["rule_id"] for f in report["flags"]}
    assert "VERDICT" in result.stderr or "FAIL" in result.stderr
    with Image.open(tmp_path / "photo.jpg") as photo:
        assert photo.format == "JPEG" and photo.width * 4 == photo.height * 3
