"""`verifier fingerprint-quality` and `verifier match-fingerprints` on generated fingers with
known labels, including the CSV batch mode and unreadable inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verifier.cli import main
from verifier.synthetic.fingerprints import encode_png, impression


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prints")
    for finger in (61, 65):
        for k in (0, 1):
            (root / f"{finger}_{k}.png").write_bytes(encode_png(impression(finger, k)))
    (root / "dark.png").write_bytes(encode_png((impression(61, 0) * 0.35).astype(np.uint8)))
    (root / "blank.png").write_bytes(encode_png(np.full((400, 300), 240, np.uint8)))
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (root / "pairs.csv").write_text(
        "a,b,same\n61_0.png,61_1.png,1\n65_0.png,65_1.png,1\n"
        "61_0.png,65_0.png,0\n61_1.png,65_1.png,0\nbroken.png,61_0.png,0\n"
        "61_0.png\n", encoding="utf-8")
    return root


def test_fingerprint_quality_reports_score_and_cause(prints: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q.json"
    status = main(["fingerprint-quality", "--json", str(out), str(prints / "61_0.png"),
                   str(prints / "dark.png"), str(prints / "blank.png"),
                   str(prints / "broken.png")])
    rows = {Path(r["image"]).name: r for r in json.loads(out.read_text())["images"]}
    assert status == 1  # the blank and the broken image do not pass
    assert rows["61_0.png"]["likely_cause"] == "none" and rows["61_0.png"]["nfiq2"] > 0
    assert rows["dark.png"]["likely_cause"] == "too_dark"
    assert rows["blank.png"]["likely_cause"] == "no_finger" and not rows["blank.png"]["passed"]
    assert "error" in rows["broken.png"] and "nfiq2" not in rows["broken.png"]
    assert "too_dark" in capsys.readouterr().out


def test_match_two_images(prints: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match-fingerprints", "--json", "-", str(prints / "61_0.png"),
                 str(prints / "61_1.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"][0]["match"] is True
    assert result["pairs"][0]["score"] >= result["pairs"][0]["threshold"]


def test_match_pairs_csv_counts_errors_and_rates(prints: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.json"
    status = main(["match-fingerprints", "--pairs", str(prints / "pairs.csv"),
                   "--json", str(out)])
    result = json.loads(out.read_text())
    assert status == 1  # one pair names an unreadable image
    assert result["summary"] == {"pairs": 6, "errors": 2, "matches": 2, "fnmr": 0.0,
                                 "fmr": 0.0, "genuine_pairs": 2, "impostor_pairs": 2}
    assert "broken.png" in result["pairs"][4]["error"]
    assert result["pairs"][5]["error"].startswith("line 7: expected a,b,same")
    assert result["pairs"][0]["a_print"]["minutiae_count"] > 0


def test_bad_arguments_are_errors_not_crashes(prints: Path, tmp_path: Path) -> None:
    assert main(["match-fingerprints", str(prints / "61_0.png")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("image1,image2\na.png,b.png\n", encoding="utf-8")
    assert main(["match-fingerprints", "--pairs", str(bad)]) == 2
