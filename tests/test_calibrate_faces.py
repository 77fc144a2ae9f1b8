"""Thresholds per comparison kind, the rule of three, the thresholds file with comparison
kinds, and `verifier calibrate-faces` on labelled folders (real dlib on generated faces)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from verifier.cli import main
from verifier.config import Config
from verifier.consistency.face_rules import COMPARISONS as RULE_COMPARISONS
from verifier.face.calibration import (COMPARISONS, Calibration, OperatingPoint, calibrate,
                                       load_calibration, pairs_needed, threshold_at_fmr,
                                       write_calibration)
from verifier.face.matching import FaceMatcher
from verifier.synthetic.frames import framed_face


def _uniform(n: int, lo: float, hi: float) -> np.ndarray:
    return np.linspace(lo, hi, n)  # distinct values: the threshold's position is exact


def test_each_comparison_kind_gets_its_own_threshold_and_the_strictest_holds_for_any() -> None:
    impostors = {("plain", "asian"): _uniform(30_000, 0.40, 1.0),
                 ("plain", "lfw"): _uniform(30_000, 0.55, 1.0),
                 ("card_vs_live", "asian"): _uniform(30_000, 0.45, 1.0)}
    result = calibrate(impostors, (1e-2, 1e-3))
    plain = result.comparisons["plain"]["FMR=1e-3"]
    card = result.comparisons["card_vs_live"]["FMR=1e-3"]
    assert plain.distance == threshold_at_fmr(impostors[("plain", "asian")], 1e-3)
    assert card.distance == threshold_at_fmr(impostors[("card_vs_live", "asian")], 1e-3)
    assert card.distance > plain.distance and card.comparison == "card_vs_live"
    assert result.points["FMR=1e-3"].distance == plain.distance  # any: the strictest
    # No group of a kind exceeds its FMR at its threshold.
    for (kind, _), d in impostors.items():
        point = result.comparisons[kind]["FMR=1e-3"]
        assert np.mean(d <= point.distance) <= 1e-3


def test_an_fmr_the_data_cannot_support_is_not_calibrated() -> None:
    # 2,968 impostor pairs: enough for 1/FMR at 1e-3 but not for the rule of three.
    asian = _uniform(2968, 0.45, 1.0)
    assert pairs_needed(1e-3, 3) == 3000 and pairs_needed(1e-3) == 1000
    result = calibrate({("plain", "asian"): asian, ("plain", "lfw"): _uniform(300_000, 0.5, 1),
                        ("card_vs_live", "asian"): _uniform(6000, 0.40, 1.0)}, (1e-2, 1e-3))
    assert "FMR=1e-2" in result.comparisons["plain"]
    # plain is not calibrated at 1e-3 (one of its groups is too small); it falls back to
    # the point for any comparison, which the groups that can measure it set.
    assert "FMR=1e-3" not in result.comparisons["plain"]
    any_point = result.points["FMR=1e-3"]
    assert any_point.comparison == "any"
    assert any_point.distance == threshold_at_fmr(_uniform(6000, 0.40, 1.0), 1e-3, 3)
    assert "plain/asian not measurable (2968 pairs)" in result.notes[1]
    with pytest.raises(ValueError, match="every group has fewer than 300 impostor pairs"):
        calibrate({("plain", "x"): _uniform(299, 0.4, 1.0)}, (1e-2, 1e-3))
    with pytest.raises(ValueError, match="unknown comparison kind 'selfie'"):
        calibrate({("selfie", "x"): _uniform(3000, 0.4, 1.0)}, (1e-2,))


def test_file_round_trip_with_comparisons_and_fallback(tmp_path: Path) -> None:
    cal = Calibration(
        model="m", model_sha256="ab" * 32, derivation="d", flip_tta=True,
        points={"FMR=1e-3": OperatingPoint("FMR=1e-3", 1e-3, 0.39, 5000)},
        comparisons={"card_vs_live": {"FMR=1e-3": OperatingPoint(
            "FMR=1e-3", 1e-3, 0.41, 6000, "card_vs_live")}})
    path = tmp_path / "t.toml"
    write_calibration(path, cal)
    assert load_calibration(path) == cal
    matcher = FaceMatcher(calibration=cal, model_label="m@abab")
    a = np.zeros(4, np.float32)
    b = np.array([0.40, 0, 0, 0], np.float32)
    card = matcher.decide(a, b, "FMR=1e-3", "card_vs_live")
    passport = matcher.decide(a, b, "FMR=1e-3", "passport_vs_live")  # not measured: any
    assert card.match and card.comparison == "card_vs_live"
    assert not passport.match and passport.comparison == "any"
    path.write_text(path.read_text().replace("card_vs_live", "selfie"))
    with pytest.raises(ValueError, match="unknown comparison kind 'selfie'"):
        load_calibration(path)


def test_every_document_rule_names_a_known_comparison_kind() -> None:
    assert set(RULE_COMPARISONS.values()) <= set(COMPARISONS) - {"plain"}


def _faces_folder(root: Path) -> Path:
    """Two 'identities' of generated frames: the astronaut at several sizes, and the same
    frames mirrored and darkened (a different image, not a different person: enough to run
    the command, not to judge accuracy)."""
    for i, ratio in enumerate((0.35, 0.45, 0.55)):
        frame = framed_face(ratio)
        for identity, image in (("a", frame), ("b", (frame[:, ::-1] * 0.7).astype(np.uint8))):
            (root / identity).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / identity / f"{i}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return root


@pytest.mark.slow
def test_calibrate_faces_refuses_an_fmr_its_pairs_cannot_support(tmp_path: Path,
                                                                 capsys) -> None:  # noqa: ANN001
    folder = _faces_folder(tmp_path / "faces")
    out = tmp_path / "thresholds.toml"
    # 6 images, 9 impostor pairs: FMR 1e-2 needs 300.
    assert main(["calibrate-faces", "--folders", str(folder), "--out", str(out)]) == 2
    assert "every group has fewer than 300 impostor pairs" in capsys.readouterr().err
    assert not out.exists()
    # Asking for an FMR the pairs can support (rule of one pair in 1/FMR at 0.2) writes a
    # file bound to the embedder's model file.
    assert main(["calibrate-faces", "--folders", str(folder), "--out", str(out),
                 "--fmr", "0.2", "--min-expected-matches", "1"]) == 0
    cal = load_calibration(out)
    assert cal.model == "face_recognition_resnet" and cal.model_sha256.startswith("55533b28a958")
    assert set(cal.points) == {"FMR=2e-1"} and cal.comparisons["plain"]["FMR=2e-1"]
    assert "plain FMR=2e-1: distance" in capsys.readouterr().out


def test_calibrate_faces_rejects_bad_pairs_files(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b\nx.png,y.png\n")
    assert main(["calibrate-faces", "--pairs", str(pairs), "--out", str(tmp_path / "o")]) == 2
    assert "must start with the header line 'a,b,same'" in capsys.readouterr().err
    pairs.write_text("a,b,same,comparison\nx.png,y.png,1,selfie\n")
    assert main(["calibrate-faces", "--pairs", str(pairs), "--out", str(tmp_path / "o")]) == 2
    assert "line 2: expected two image paths" in capsys.readouterr().err


def test_configured_embedder_defaults_to_dlib() -> None:
    face = Config().face
    assert (face.embedder, face.flip_tta) == ("face_recognition_resnet", True)
    assert dataclasses.replace(face, embedder="x").embedder == "x"
