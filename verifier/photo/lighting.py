"""Light on the face: even across the face (illumination) and correctly exposed."""

from __future__ import annotations

import numpy as np

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import (CheckSettings, RequirementResult, judged, score_at_most,
                                   score_in_range, unknown)


def illumination(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """L* difference between the cheeks: side light leaves one half of the face darker."""
    threshold = s.thresholds.max_face_lightness_difference
    if not a.single_face or a.regions is None:
        return unknown("illumination", "L*", threshold)
    left = a.lab_region(a.regions.left_cheek)
    right = a.lab_region(a.regions.right_cheek)
    if len(left) == 0 or len(right) == 0:
        return unknown("illumination", "L*", threshold,
                       ("Wajah terpotong di tepi gambar", "Face cut off at the image edge"))
    diff = float(np.median(left[:, 0]) - np.median(right[:, 0]))
    side_id, side_en = ("kanan", "right") if diff > 0 else ("kiri", "left")
    return judged("illumination", abs(diff) <= threshold, diff, "L*",
                  score_at_most(abs(diff), threshold), threshold,
                  ("Pencahayaan wajah merata", "Face evenly lit"),
                  (f"Pencahayaan tidak merata: sisi {side_id} wajah (pada gambar) lebih gelap",
                   f"Uneven light: the {side_en} side of the face (in the image) is darker"))


def exposure(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Mean face L* within bounds and few clipped face pixels."""
    t = s.thresholds
    lo, hi = t.min_face_lightness, t.max_face_lightness
    if not a.single_face or a.regions is None:
        return unknown("exposure", "L*", lo)
    face = a.lab_region(a.regions.face)
    if len(face) == 0:
        return unknown("exposure", "L*", lo,
                       ("Wajah terpotong di tepi gambar", "Face cut off at the image edge"))
    left, top, right, bottom = a.regions.face
    grey = a.grey[top:bottom, left:right]
    clipped = float(((grey <= 3) | (grey >= 252)).mean())
    mean_l = float(face[:, 0].mean())
    too_dark = mean_l < lo or (clipped > t.max_face_clipped_share and mean_l < (lo + hi) / 2)
    ok = lo <= mean_l <= hi and clipped <= t.max_face_clipped_share
    return judged("exposure", ok, mean_l, "L*", score_in_range(mean_l, lo, hi),
                  lo if too_dark else hi, ("Eksposur wajah sesuai", "Face correctly exposed"),
                  ("Wajah terlalu gelap: tambah cahaya", "Face too dark: add light")
                  if too_dark else
                  ("Wajah terlalu terang: kurangi cahaya atau lampu kilat",
                   "Face too bright: reduce the light or flash"))
