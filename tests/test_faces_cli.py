"""`verifier match-faces`: two images, a pairs file with good and bad rows, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.images import encode
from verifier.cli import main
from verifier.synthetic.frames import astronaut, framed_face
from verifier.synthetic.recapture import Degradation, recapture

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import skimage.data

    folder = tmp_path_factory.mktemp("faces")
    (folder / "live.jpg").write_bytes(encode(framed_face(0.5)))
    (folder / "ktp.jpg").write_bytes(encode(recapture(
        astronaut()[0:330, 70:370], seed=3, degradation=Degradation(
            card_width_px=1000, tilt_deg=3, glare=0.1, pattern_opacity=0.15)).rgb))
    (folder / "other.png").write_bytes(encode(skimage.data.camera(), "PNG"))
    (folder / "wall.png").write_bytes(encode(framed_face(0.5)[:60, :60], "PNG"))
    (folder / "broken.jpg").write_bytes(encode(framed_face(0.5))[:500])
    return folder


def test_two_images_json_to_stdout(images: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["match-faces", "--json", "-", str(images / "live.jpg"), str(images / "ktp.jpg")])
    out = json.loads(capsys.readouterr().out)  # stdout holds the JSON alone
    assert rc == 0
    (pair,) = out["pairs"]
    assert pair["match"] is True and pair["operating_point"] == "FMR=1e-3"
    assert pair["score"] >= pair["threshold"] and pair["distance"] == pytest.approx(
        1 - pair["score"], abs=1e-4)
    assert out["model"].startswith("face_recognition_resnet@55533b28a958")
    assert pair["a_face"]["detector"] == "hog" and pair["b_face"]["quality"]["score"] >= 0


def test_pairs_file_reports_each_pair_and_its_error(images: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    pairs = images / "pairs.csv"
    pairs.write_text("a,b\nlive.jpg,ktp.jpg\nlive.jpg,other.png\nlive.jpg,broken.jpg\n"
                     "missing.jpg,live.jpg\nlive.jpg,wall.png\nlonely.jpg\n")
    report = tmp_path / "out" / "pairs.json"
    rc = main(["match-faces", "--pairs", str(pairs), "--json", str(report),
               "--operating-point", "FMR=1e-2"])
    assert rc == 1  # some pairs could not be compared
    rows = json.loads(report.read_text())["pairs"]
    assert [r.get("match") for r in rows] == [True, False, None, None, None, None]
    assert all(r["operating_point"] == "FMR=1e-2" for r in rows[:2])
    assert "broken.jpg: image header unreadable: truncated" in rows[2]["error"].lower()
    assert "missing.jpg: cannot read" in rows[3]["error"]
    assert "wall.png: no face found" in rows[4]["error"]
    assert rows[5]["error"] == "line 7: expected two image paths, got 1 column(s)"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("MATCH") and printed[1].startswith("NO MATCH")
    assert len(printed) == 6


def test_usage_errors(images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right\nx,y\n")
    assert main(["match-faces", "--pairs", str(bad)]) == 2
    assert "must start with the header line 'a,b'" in capsys.readouterr().err
    assert main(["match-faces", str(images / "live.jpg")]) == 2
    assert "exactly two images" in capsys.readouterr().err
    assert main(["match-faces", "--pairs", str(tmp_path / "none.csv")]) == 2
    assert main(["match-faces", "--operating-point", "FMR=1e-9", str(images / "live.jpg"),
                 str(images / "ktp.jpg")]) == 2
    assert "'FMR=1e-9' is not calibrated" in capsys.readouterr().err
