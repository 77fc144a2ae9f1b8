"""A photo with what the requirements looked at drawn on it: face box, landmarks, chin and
crown, and the regions behind each failing requirement (for people, not for machines)."""

from __future__ import annotations

import cv2
import numpy as np

from verifier.face import mesh
from verifier.photo.analysis import FaceRegions, Rect
from verifier.photo.assessment import PhotoAssessment

_GREEN, _RED, _BLUE, _YELLOW = (0, 170, 0), (220, 0, 0), (0, 90, 230), (230, 180, 0)


def _failure_regions(name: str, regions: FaceRegions) -> tuple[Rect, ...]:
    return {
        "glasses": (regions.nose_bridge,),
        "red_eye": (regions.left_eye, regions.right_eye),
        "illumination": (regions.left_cheek, regions.right_cheek),
        "glasses_glare": (regions.left_lens, regions.right_lens),
        "exposure": (regions.face,), "sharpness": (regions.eye_band,),
        "natural_colour": (regions.face,), "head_covering": (regions.forehead,),
    }.get(name, ())


def annotated(a: PhotoAssessment, max_side_px: int = 480) -> np.ndarray:
    """RGB copy of the photo, reduced to `max_side_px`, with the annotations."""
    an = a.analysis
    scale = min(1.0, max_side_px / max(an.width_px, an.height_px))
    size = (max(1, round(an.width_px * scale)), max(1, round(an.height_px * scale)))
    out = cv2.resize(an.rgb, size, interpolation=cv2.INTER_AREA)
    failing = {r.requirement for r in a.failing}
    thick = max(1, round(2 * max(out.shape[:2]) / 480))

    def p(xy: tuple[float, float]) -> tuple[int, int]:
        return (round(xy[0] * scale), round(xy[1] * scale))

    if "background" in failing and an.background_mask is not None:
        mask = cv2.resize(an.background_mask.astype(np.uint8), out.shape[1::-1],
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        out[mask] = (0.6 * out[mask] + 0.4 * np.array(_RED)).astype(np.uint8)
    for i, face in enumerate(an.faces):
        b = face.box
        colour = _GREEN if i == 0 and len(an.faces) == 1 else _RED
        cv2.rectangle(out, p((b.left, b.top)), p((b.right, b.bottom)), colour, thick)
        for pt in face.landmarks_px:
            cv2.circle(out, p(pt), thick + 1, _YELLOW, -1)
    if an.head is not None:
        h = an.head
        geometry_fails = failing & {"head_size", "eye_height", "crop_room"}
        colour = _RED if geometry_fails else _BLUE
        half = h.inter_eye_distance_px
        for y_pt in (h.crown_px, h.chin_px):
            cv2.line(out, p((y_pt[0] - half, y_pt[1])), p((y_pt[0] + half, y_pt[1])), colour, thick)
    if an.landmarks is not None:
        # Eyelids and lips as the eye and mouth requirements saw them.
        lm = an.landmarks
        eyes_colour = _RED if "eyes_open" in failing else _GREEN
        for contour in (lm.left_eye_contour_px, lm.right_eye_contour_px):
            pts = np.round(contour * scale).astype(np.int32)
            cv2.polylines(out, [pts], True, eyes_colour, max(1, thick // 2))
        mouth_colour = _RED if failing & {"mouth_closed", "neutral_expression"} else _GREEN
        for i in (mesh.UPPER_LIP_INNER, mesh.LOWER_LIP_INNER, mesh.MOUTH_LEFT_CORNER,
                  mesh.MOUTH_RIGHT_CORNER):
            cv2.circle(out, p(tuple(lm.mesh_px[i])), thick + 1, mouth_colour, -1)
    if an.regions is not None:
        for name in failing:
            for rect in _failure_regions(name, an.regions):
                cv2.rectangle(out, p(rect[:2]), p(rect[2:]), _RED, thick)
    return out
