"""Thresholds from impostor distributions, error rates, the thresholds file and the matcher's
checks (no face images needed)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from verifier.config import MODELS_DIR, load_config
from lebong_contract.errors import ModelIntegrityError
from verifier.face.calibration import (Calibration, OperatingPoint, error_rates, fmr_fnmr,
                                       fmr_of, load_calibration, threshold_at_fmr,
                                       write_calibration)
from verifier.consistency.face_rules import face_match
from verifier.face.matching import SCORE_UNIT, face_matcher
from verifier.models import LoadedModels, verify_all


def test_threshold_admits_exactly_the_allowed_share_of_impostors() -> None:
    impostors = np.arange(1, 10_001) / 10_000.0  # 0.0001 ... 1.0, all distinct
    for fmr in (1e-2, 1e-3):
        t = threshold_at_fmr(impostors, fmr)
        assert np.sum(impostors <= t) == round(fmr * impostors.size)
        assert np.sum(impostors <= t + 1e-4) > fmr * impostors.size  # and no more slack


def test_threshold_refuses_too_few_impostors_and_ties_do_not_match() -> None:
    with pytest.raises(ValueError, match="999 impostor pairs cannot measure FMR 0.001"):
        threshold_at_fmr(np.linspace(0.3, 1.0, 999), 1e-3)
    tied = np.full(1000, 0.5)
    assert threshold_at_fmr(tied, 1e-3) < 0.5  # matching any would give FMR 100 %


def test_error_rates_on_known_distributions() -> None:
    rng = np.random.default_rng(1)
    genuine = rng.normal(0.35, 0.05, 2000)
    impostor = rng.normal(0.75, 0.05, 20000)
    rates = error_rates(genuine, impostor)
    assert rates.roc_auc > 0.999 and rates.eer < 0.001
    # Both normal with sigma 0.05: at FMR 1e-3 (z=3.09, d=0.5955) FNMR is about 0.0
    assert rates.fnmr_at_fmr[1e-3] < 0.005
    # Overlapping: EER where the distributions cross halfway (0.5 apart by 2 sigma -> ~15.9 %)
    rates = error_rates(rng.normal(0.5, 0.05, 4000), rng.normal(0.6, 0.05, 4000))
    assert abs(rates.eer - 0.159) < 0.02 and 0.90 < rates.roc_auc < 0.94
    # Failed detections (inf) never match: FNMR counts them.
    fmr, fnmr = fmr_fnmr(np.array([0.3, math.inf]), np.array([0.9, math.inf]), 0.6)
    assert (fmr, fnmr) == (0.0, 0.5)


def test_fnmr_not_measurable_with_too_few_impostors() -> None:
    rates = error_rates(np.array([0.3, 0.4]), np.linspace(0.5, 1, 500))
    assert rates.fnmr_at_fmr[1e-2] == 0.0 and math.isnan(rates.fnmr_at_fmr[1e-3])


def test_calibration_file_round_trip_and_errors(tmp_path: Path) -> None:
    cal = Calibration(model="face_recognition_resnet", model_sha256="ab" * 32,
                      derivation='measured on "x"\nand y',
                      points={"FMR=1e-3": OperatingPoint("FMR=1e-3", 1e-3, 0.4321, 12345)})
    path = tmp_path / "t.toml"
    write_calibration(path, cal, comment="line one\nline two")
    assert load_calibration(path) == cal
    assert path.read_text().startswith("# line one\n# line two\n")
    with pytest.raises(ValueError, match="operating point 'FMR=1e-9' is not calibrated"):
        cal.point("FMR=1e-9")
    with pytest.raises(ValueError, match="not of the form"):
        fmr_of("one in a thousand")
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "m"\nmodel_sha256 = "x"\nderivation = "d"\n'
                   '[operating_points."FMR=1e-3"]\ndistance = 7\nimpostor_pairs = 1\n')
    with pytest.raises(ValueError, match="malformed: distance 7.0 out of range"):
        load_calibration(bad)
    bad.write_text("model = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_calibration(bad)
    with pytest.raises(ValueError, match="not found"):
        load_calibration(tmp_path / "none.toml")


@pytest.fixture(scope="module")
def verified_models() -> LoadedModels:
    # Only the registry's verification, no model loaded: the matcher needs the sha256s.
    config = load_config()
    return LoadedModels(face_detector=None, objects={},
                        verified=verify_all(config.models_registry))


def test_committed_thresholds_belong_to_the_registered_model(verified_models: LoadedModels) -> None:
    config = load_config()
    matcher = face_matcher(verified_models, config.face)
    assert matcher.model_label.startswith("face_recognition_resnet@55533b28a958")
    for name in ("FMR=1e-2", "FMR=1e-3", "FMR=1e-4"):
        point = matcher.calibration.point(name)
        assert 0.2 < point.distance < 0.6  # below face_recognition's 0.6 tolerance
    strict, loose = (matcher.calibration.point(n).distance for n in ("FMR=1e-4", "FMR=1e-2"))
    assert strict <= loose
    assert config.face.thresholds_path == MODELS_DIR / "face_thresholds.toml"


def test_decision_records_model_point_and_threshold(verified_models: LoadedModels) -> None:
    matcher = face_matcher(verified_models, load_config().face)
    t = matcher.calibration.point("FMR=1e-3").distance
    a = np.zeros(128, np.float32)
    near, far = a.copy(), a.copy()
    near[0], far[0] = t - 0.01, t + 0.01
    yes, no = matcher.decide(a, near, "FMR=1e-3"), matcher.decide(a, far, "FMR=1e-3")
    assert yes.match and not no.match
    assert yes.threshold == pytest.approx(1 - t) and yes.score == pytest.approx(1 - t + 0.01)
    match = face_match(no, "live_capture", "ktp_photo")
    assert (match.score_unit, match.operating_point, match.model) == (
        SCORE_UNIT, "FMR=1e-3", matcher.model_label)
    assert match.score < match.threshold and not match.match


def test_matcher_refuses_thresholds_of_another_model(tmp_path: Path,
                                                     verified_models: LoadedModels) -> None:
    cal = load_calibration(load_config().face.thresholds_path)
    path = tmp_path / "other.toml"
    write_calibration(path, dataclasses.replace(cal, model_sha256="0" * 64))
    config = dataclasses.replace(load_config().face, thresholds_path=path)
    with pytest.raises(ModelIntegrityError, match="measured on model file 000000000000"):
        face_matcher(verified_models, config)
    config = dataclasses.replace(load_config().face, operating_point="FMR=1e-7")
    with pytest.raises(ValueError, match="'FMR=1e-7' is not calibrated"):
        face_matcher(verified_models, config)


def test_face_config_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[face]\noperating_point = "FMR=1e-2"\nnum_jitters = 5\n')
    config = load_config(path)
    assert (config.face.operating_point, config.face.num_jitters) == ("FMR=1e-2", 5)
