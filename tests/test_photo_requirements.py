"""Passport-photo requirements on a real photo (scikit-image's astronaut on a white
backdrop, cut to passport geometry) and controlled changes with known labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verifier.config import Config
from verifier.face.detection import DetectedFace, FaceBox
from verifier.face.pose import estimate_head_pose
from verifier.imaging import decode_image, encode_jpeg
from verifier.models import LoadedModels
from verifier.photo.assessment import PhotoAssessment, assess_photo
from verifier.photo.result import Outcome
from verifier.synthetic import photo_variants as pv


@pytest.fixture(scope="module")
def base() -> pv.PhotoBase:
    return pv.astronaut_base()


def check(rgb: np.ndarray, models: LoadedModels, config: Config, quality: int = 95,
          profile: str = "upload") -> PhotoAssessment:
    """As an upload arrives: encoded, through the decode gate, assessed."""
    return assess_photo(decode_image(encode_jpeg(rgb, quality), config.imaging), models,
                        config, profile)


def failing(a: PhotoAssessment) -> set[str]:
    return {r.requirement for r in a.failing}


VARIANT_NAMES = [v.name.split("/", 1)[1] for v in pv.variants(pv.astronaut_base())]


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_each_labelled_change_fails_exactly_its_requirements(
        name: str, base: pv.PhotoBase, models: LoadedModels, config: Config) -> None:
    (variant,) = [v for v in pv.variants(base) if v.name.endswith("/" + name)]
    a = check(variant.rgb, models, config, variant.jpeg_quality)
    fails = failing(a)
    values = {r.requirement: round(r.value, 3) for r in a.requirements}
    assert variant.must_fail <= fails, values
    assert not (fails - variant.must_fail - variant.may_fail), values


def test_every_upload_requirement_is_reported_with_value_score_and_messages(
        base: pv.PhotoBase, models: LoadedModels, config: Config) -> None:
    a = check(base.rgb, models, config)
    assert a.ready and a.profile == "upload"
    assert [r.requirement for r in a.requirements] == list(config.photo.upload.requirements)
    for r in a.requirements:
        assert r.outcome is Outcome.PASS and 0 <= r.score <= 100 and r.score >= 50, r
        assert r.message_id and r.message_en and r.message_id != r.message_en
    values = {r.requirement: r.value for r in a.requirements}
    # The base is cut with the head at 75 % of the height: the measurement agrees.
    assert abs(values["head_size"] - 0.75) < 0.04
    assert values["inter_eye_distance"] == pytest.approx(base.inter_eye_distance_px, rel=0.05)


@pytest.mark.parametrize("factor", [0.65, 0.8, 1.3])
@pytest.mark.parametrize("quality", [70, 90])
def test_rescaling_or_recompressing_keeps_a_compliant_photo_compliant(
        factor: float, quality: int, base: pv.PhotoBase, models: LoadedModels,
        config: Config) -> None:
    a = check(pv.scaled_image(base, factor), models, config, quality)
    assert a.ready, {r.requirement: round(r.value, 3) for r in a.failing}


@pytest.mark.parametrize("colour", [(150, 190, 235), (235, 200, 200), (120, 120, 120),
                                    (60, 140, 60)])
def test_recolouring_the_background_fails_only_the_background(
        colour: tuple[int, int, int], base: pv.PhotoBase, models: LoadedModels,
        config: Config) -> None:
    a = check(pv.recoloured_background(base, colour), models, config)
    assert failing(a) == {"background"}
    (bg,) = [r for r in a.requirements if r.requirement == "background"]
    assert bg.value > 0.5 and "latar" in bg.message_id.lower()


def test_a_smile_with_teeth_fails_the_mouth_and_expression_only(
        models: LoadedModels, config: Config) -> None:
    # The astronaut as photographed: a broad smile, lips apart over her teeth.
    a = check(pv.astronaut_base(smiling=True).rgb, models, config)
    assert failing(a) == {"mouth_closed", "neutral_expression"}
    values = {r.requirement: r.value for r in a.requirements}
    assert values["mouth_closed"] > 0.15 and values["neutral_expression"] > 0.1


def test_the_eye_and_mouth_measures_do_not_depend_on_the_image_size(
        base: pv.PhotoBase, models: LoadedModels, config: Config) -> None:
    names = ("eyes_open", "mouth_closed", "neutral_expression")
    full = {r.requirement: r.value for r in check(base.rgb, models, config).requirements}
    small = {r.requirement: r.value
             for r in check(pv.scaled_image(base, 0.5), models, config).requirements}
    for name in names:
        assert small[name] == pytest.approx(full[name], abs=0.03), name


def test_roll_is_measured_in_degrees_with_its_sign(base: pv.PhotoBase, models: LoadedModels,
                                                   config: Config) -> None:
    level = {r.requirement: r.value for r in check(base.rgb, models, config).requirements}
    for degrees in (-12, 12):
        a = check(pv.rolled(base, degrees), models, config)
        roll = {r.requirement: r.value for r in a.requirements}["roll"]
        # OpenCV turns the image counter-clockwise for positive angles: the head then tilts
        # the other way, so the measured roll changes by minus that angle.
        assert roll - level["roll"] == pytest.approx(-degrees, abs=1.5)


def _face(nose_dx: float = 0.0, nose_dy: float = 0.0) -> DetectedFace:
    # The astronaut's 5 landmarks (dlib order), moved nose to simulate turning the head.
    pts = [(255.0, 104.0), (237.0, 105.0), (195.0, 101.0), (212.0, 103.0),
           (224.0 + nose_dx, 135.0 + nose_dy)]
    return DetectedFace(box=FaceBox(179, 83, 266, 170), detector_score=1.5,
                        left_eye_px=(203.5, 102.0), right_eye_px=(246.0, 104.5),
                        nose_px=pts[4], landmarks_px=tuple(pts))


def test_head_pose_signs_follow_the_nose() -> None:
    frontal = estimate_head_pose(_face(), 512, 512)
    right = estimate_head_pose(_face(nose_dx=5), 512, 512)
    chin_down = estimate_head_pose(_face(nose_dy=5), 512, 512)
    assert frontal is not None and right is not None and chin_down is not None
    assert abs(frontal.yaw_deg) < 4 and abs(frontal.pitch_deg) < 4
    assert right.yaw_deg > frontal.yaw_deg + 5  # nose towards the image's right
    assert chin_down.pitch_deg < frontal.pitch_deg - 5  # > 0 means chin raised
    assert estimate_head_pose(DetectedFace(FaceBox(0, 0, 9, 9), 1.0, (1, 1), (5, 1), (3, 4)),
                              10, 10) is None  # no landmarks: no pose


def test_no_face_makes_face_requirements_unknown_not_crashing(models: LoadedModels,
                                                              config: Config) -> None:
    blank = np.full((800, 600, 3), 243, np.uint8)
    a = check(blank, models, config)
    outcomes = {r.requirement: r.outcome for r in a.requirements}
    assert outcomes["single_face"] is Outcome.FAIL and outcomes["image_format"] is Outcome.PASS
    assert all(o is Outcome.UNKNOWN for k, o in outcomes.items()
               if k not in ("single_face", "image_format"))
    assert a.to_fix[0].requirement == "single_face"


@pytest.mark.parametrize("size,ok", [((600, 800), True), ((400, 600), False),
                                     ((800, 1200), True), ((700, 800), False)])
def test_image_format_knows_the_print_sizes(size: tuple[int, int], ok: bool,
                                            models: LoadedModels, config: Config) -> None:
    w, h = size
    a = check(np.full((h, w, 3), 243, np.uint8), models, config)
    (fmt,) = [r for r in a.requirements if r.requirement == "image_format"]
    assert fmt.passed is ok, fmt
    if ok:
        expected_dpi = h / (4.0 if math.isclose(w / h, 0.75) else 6.0) * 2.54
        assert fmt.value == pytest.approx(expected_dpi)


def test_unknown_profile_is_refused(base: pv.PhotoBase, models: LoadedModels,
                                    config: Config) -> None:
    from lebong_contract.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown photo profile"):
        check(base.rgb, models, config, profile="selfie")
