"""Eyes open, mouth closed, neutral expression: measured on the dense landmarks
(verifier/face/mesh.py), in units of the eye width or the inter-eye distance (IED) so that
they do not depend on the image size. bench/REPORT-photo.md has the distributions the
thresholds were placed in (Yale conditions, hand-labelled real photos, LFW Asian faces).
"""

from __future__ import annotations

import cv2
import numpy as np

from verifier.face import mesh as m
from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import (CheckSettings, RequirementResult, judged, score_at_least,
                                   score_at_most, unknown)

# Below this the mesh model does not see a face where the detector put one (an occluded or
# extreme face): its points would be guesses.
_MIN_FACE_PRESENCE = 0.5
_NOT_MEASURABLE = ("Wajah tidak cukup jelas untuk dinilai", "Face not clear enough to assess")


def _cannot_assess(a: PhotoAnalysis, requirement: str, unit: str,
                   threshold: float) -> RequirementResult:
    if not a.single_face:
        return unknown(requirement, unit, threshold)
    return unknown(requirement, unit, threshold, _NOT_MEASURABLE)


def eye_openness(contour: np.ndarray) -> float:
    """Lid-to-lid distance over corner-to-corner width, at the middle three pairs of the
    eyelid contour (point i faces point 16 - i). About 0.45 for an open eye, under 0.3 for
    a closed one."""
    width = float(np.linalg.norm(contour[8] - contour[0]))
    if width <= 0:
        return 0.0
    return float(np.mean([np.linalg.norm(contour[i] - contour[16 - i]) for i in (3, 4, 5)])
                 / width)


def iris_to_skin_lightness(grey: np.ndarray, contour: np.ndarray,
                           iris: tuple[float, float, float]) -> float:
    """Median grey of the middle of the iris over that of the skin just around the eye: an
    open eye shows a dark iris (about 0.2-0.6), a shut lid shows skin there (about 1)."""
    width = float(np.linalg.norm(contour[8] - contour[0]))
    pad = max(1, round(0.15 * width))
    x0, y0 = np.floor(contour.min(axis=0)).astype(int) - pad - 1
    x1, y1 = np.ceil(contour.max(axis=0)).astype(int) + pad + 2
    x0, y0 = max(0, x0), max(0, y0)
    patch = grey[y0:y1, x0:x1]
    if patch.size == 0:
        return 1.0
    inside = np.zeros(patch.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(contour - (x0, y0)).astype(np.int32)], 1)
    around = (cv2.dilate(inside, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)) > 0) & (inside == 0)
    ys, xs = np.mgrid[0:patch.shape[0], 0:patch.shape[1]]
    cx, cy, r = iris
    disc = (xs - (cx - x0)) ** 2 + (ys - (cy - y0)) ** 2 <= (0.6 * r) ** 2
    if disc.sum() < 3 or around.sum() < 3:
        return 1.0
    return float(np.median(patch[disc])) / max(1.0, float(np.median(patch[around])))


def _measurable(a: PhotoAnalysis) -> bool:
    return (a.single_face and a.landmarks is not None
            and a.landmarks.face_presence >= _MIN_FACE_PRESENCE)


def _upright_ied_units(a: PhotoAnalysis) -> np.ndarray | None:
    """Mesh points with the roll removed, in IED units (y grows towards the chin)."""
    if not _measurable(a):
        return None
    assert a.landmarks is not None
    face = a.faces[0]
    return m.upright(a.landmarks.mesh_px, face.roll_deg) / face.inter_eye_distance_px


def mouth_gap_ied(points: np.ndarray) -> float:
    """Distance between the inner edges of the lips."""
    return float(np.linalg.norm(points[m.UPPER_LIP_INNER] - points[m.LOWER_LIP_INNER]))


def mouth_corner_lift_ied(points: np.ndarray) -> float:
    """How far the mouth corners sit above the middle of the lips: a smile lifts them
    (0.04-0.16 IED in smiles, -0.04 to 0.07 in neutral faces)."""
    centre_y = (points[m.UPPER_LIP_INNER, 1] + points[m.LOWER_LIP_INNER, 1]) / 2
    corners_y = (points[m.MOUTH_LEFT_CORNER, 1] + points[m.MOUTH_RIGHT_CORNER, 1]) / 2
    return float(centre_y - corners_y)


def eyes_open(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Openness of the less open eye: a closed eye, a wink or a squint fails. The eye model
    keeps shut lids a little apart (0.26-0.36), so between `min_eye_openness` and
    `iris_check_below_openness` an eye also fails when no dark iris shows between its lids."""
    t = s.thresholds
    threshold = t.min_eye_openness
    if not _measurable(a):
        return _cannot_assess(a, "eyes_open", "ratio", threshold)
    lm = a.landmarks
    assert lm is not None
    value = min(eye_openness(lm.left_eye_contour_px), eye_openness(lm.right_eye_contour_px))
    if threshold <= value < t.iris_check_below_openness:
        hidden = max(iris_to_skin_lightness(a.grey, contour, iris) for contour, iris in zip(
            (lm.left_eye_contour_px, lm.right_eye_contour_px), lm.irises_px))
        if hidden > t.max_iris_to_skin_lightness:
            threshold = t.iris_check_below_openness
    return judged("eyes_open", value >= threshold, value, "ratio",
                  score_at_least(value, threshold), threshold,
                  ("Kedua mata terbuka", "Both eyes open"),
                  ("Buka kedua mata dan lihat ke kamera", "Open both eyes and look at the camera"))


def mouth_closed(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_mouth_gap_ied
    points = _upright_ied_units(a)
    if points is None:
        return _cannot_assess(a, "mouth_closed", "IED", threshold)
    value = mouth_gap_ied(points)
    return judged("mouth_closed", value <= threshold, value, "IED",
                  score_at_most(value, threshold), threshold,
                  ("Mulut tertutup", "Mouth closed"),
                  ("Tutup mulut (bibir rapat, gigi tidak terlihat)",
                   "Close your mouth (lips together, no teeth showing)"))


def neutral_expression(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_mouth_corner_lift_ied
    points = _upright_ied_units(a)
    if points is None:
        return _cannot_assess(a, "neutral_expression", "IED", threshold)
    value = mouth_corner_lift_ied(points)
    return judged("neutral_expression", value <= threshold, value, "IED",
                  score_at_most(max(0.0, value), threshold), threshold,
                  ("Ekspresi netral", "Neutral expression"),
                  ("Ekspresi netral: jangan tersenyum", "Neutral expression: do not smile"))
