"""The three distributions install apart (issue 15): the capture station's wheel goes into a
fresh virtual environment with at most 25 packages and no biometric, OCR or database library,
and the verifier's wheel finds its model registry as package data, without a source tree.

Wheels are built with `uv build` and installed offline: every pinned version comes from the
lock (`uv export`), which `make test`'s `uv sync` has already put in uv's cache.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from capture_station.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
STATION_LIMIT = 25  # the target
# Native biometric and OCR libraries, the database and the web framework of the verifier.
NOT_ON_A_STATION = {"dlib", "dlib-bin", "face-recognition", "face-recognition-models",
                    "onnxruntime", "rapidocr-onnxruntime", "pytesseract", "nbis-py",
                    "ai-edge-litert", "scikit-image", "sqlalchemy", "psycopg", "flask",
                    "lebong-verifier"}
_VERIFIER_IMPORT = re.compile(r"^\s*(?:from|import)\s+verifier\b.*$", re.M)


def _uv() -> list[str]:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH (make sync installs it)")
    return [uv]


def _run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def _install(tmp: Path, packages: list[str], pip_check: bool = True) -> Path:
    """A fresh virtual environment holding the workspace `packages` (built as wheels) and
    exactly the locked versions of what they need; returns its bin folder."""
    dist, venv, pins = tmp / "dist", tmp / "venv", tmp / "requirements.txt"
    for package in packages:
        _run(_uv() + ["build", "--offline", "--quiet", "--package", package, "--out-dir",
                      str(dist)], ROOT)
    _run(_uv() + ["export", "--frozen", "--quiet", "--no-dev", "--no-emit-workspace",
                  "--no-hashes", "--package", packages[-1], "--output-file", str(pins)], ROOT)
    _run(_uv() + ["venv", "--quiet", "--python", sys.executable, str(venv)], tmp)
    python = str(venv / "bin" / "python")
    # --no-deps: the pins are the whole closure; `pip check` proves nothing is missing.
    _run(_uv() + ["pip", "install", "--offline", "--quiet", "--no-deps", "--python", python,
                  "-r", str(pins), *map(str, sorted(dist.glob("*.whl")))], tmp)
    if pip_check:
        _run(_uv() + ["pip", "check", "--python", python], tmp)
    return venv / "bin"


def _installed(bin_dir: Path) -> set[str]:
    listing = _run([str(bin_dir / "python"), "-c",
                    "import importlib.metadata as m, json; "
                    "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"],
                   bin_dir)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in json.loads(listing.stdout)}


def _station_has_ui() -> bool:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return "ui" in commands.choices


def verifier_imports(source: str) -> list[str]:
    return [m.group(0).strip() for m in _VERIFIER_IMPORT.finditer(source)]


def test_station_imports_only_the_contract() -> None:
    """Only the development simulator reaches into the verifier (the `simulator` extra)."""
    offenders = {str(p.relative_to(ROOT)): verifier_imports(p.read_text(encoding="utf-8"))
                 for p in (ROOT / "capture_station").rglob("*.py")
                 if p.name != "sbi_sim.py"}
    assert not {k: v for k, v in offenders.items() if v}


def test_a_verifier_import_is_noticed() -> None:
    assert verifier_imports("import os\n    from verifier.imaging import decode\n") == [
        "from verifier.imaging import decode"]
    assert verifier_imports("from lebong_contract.errors import InvalidInput\n") == []


@pytest.mark.slow
def test_station_wheel_installs_alone(tmp_path: Path) -> None:
    bin_dir = _install(tmp_path, ["lebong-contract", "lebong-capture-station"])
    installed = _installed(bin_dir)
    print(f"station environment: {len(installed)} packages: {', '.join(sorted(installed))}")
    assert {"lebong-capture-station", "lebong-contract", "grpcio",
            "opencv-python-headless"} <= installed
    assert len(installed) <= STATION_LIMIT
    assert not installed & NOT_ON_A_STATION
    station = str(bin_dir / "capture-station")
    assert "COMMAND" in _run([station, "--help"], tmp_path).stdout
    if _station_has_ui():
        assert "usage: capture-station ui" in _run([station, "ui", "--help"], tmp_path).stdout
    # The verifier is not there: the simulator, which needs it, says so instead of a traceback.
    refused = _run([station, "sbi-sim", "--dev", "--synthetic"], tmp_path, check=False)
    assert refused.returncode == 2
    assert "lebong-capture-station[simulator]" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.slow
def test_installed_verifier_finds_its_models(tmp_path: Path) -> None:
    # No `pip check`: the verifier's uv overrides (pyproject.toml: dlib-bin for dlib, headless
    # OpenCV, no TensorFlow) leave requirements that pip reports as missing on purpose.
    bin_dir = _install(tmp_path, ["lebong-contract", "lebong-verifier"], pip_check=False)
    work = tmp_path / "elsewhere"  # no source tree in sight
    work.mkdir()
    _run([str(bin_dir / "verifier"), "check-models", "--json", "report.json"], work)
    report = json.loads((work / "report.json").read_text())
    registry = Path(report["registry"])
    assert registry.is_relative_to(tmp_path / "venv") and registry.name == "registry.toml"
    assert report["models"] and all(m["ok"] for m in report["models"])
    # It is that installed copy the check reads: alter one digest there and it refuses.
    text = registry.read_text()
    first = report["models"][0]
    registry.write_text(text.replace(first["sha256"], "0" * 64, 1))
    altered = _run([str(bin_dir / "verifier"), "check-models"], work, check=False)
    assert altered.returncode != 0
    assert first["name"] in altered.stdout + altered.stderr
