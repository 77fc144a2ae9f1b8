"""Geometry of a finished photo: head size, eye height, inter-eye distance."""

from __future__ import annotations

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import (CheckSettings, RequirementResult, judged, score_at_least,
                                   score_in_range, unknown)


def head_size(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Chin to crown as a share of the image height (ICAO: 70-80 %)."""
    t = s.thresholds
    lo, hi = t.min_head_height_ratio, t.max_head_height_ratio
    if not a.single_face or a.head is None:
        return unknown("head_size", "ratio", lo)
    ratio = a.head.head_height_px / a.height_px
    if not a.head.crown_in_image:
        return judged("head_size", False, ratio, "ratio", 0.0, hi, ("", ""),
                      ("Bagian atas kepala terpotong: sisakan ruang di atas kepala",
                       "Top of the head is cut off: leave space above the head"))
    too_small = ratio < lo
    return judged("head_size", lo <= ratio <= hi, ratio, "ratio",
                  score_in_range(ratio, lo, hi), lo if too_small else hi,
                  ("Ukuran kepala sesuai", "Head size is right"),
                  (f"Kepala terlalu kecil ({ratio:.0%} dari tinggi foto, minimal {lo:.0%})",
                   f"Head too small ({ratio:.0%} of the photo height, at least {lo:.0%})")
                  if too_small else
                  (f"Kepala terlalu besar ({ratio:.0%} dari tinggi foto, maksimal {hi:.0%})",
                   f"Head too large ({ratio:.0%} of the photo height, at most {hi:.0%})"))


def eye_height(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Eye line from the top as a share of the image height (ISO/IEC 19794-5: 30-50 %)."""
    t = s.thresholds
    lo, hi = t.min_eye_height_ratio, t.max_eye_height_ratio
    if not a.single_face or a.head is None:
        return unknown("eye_height", "ratio", lo)
    ratio = a.head.eye_mid_px[1] / a.height_px
    too_high = ratio < lo
    return judged("eye_height", lo <= ratio <= hi, ratio, "ratio", score_in_range(ratio, lo, hi),
                  lo if too_high else hi, ("Posisi mata sesuai", "Eye height is right"),
                  ("Mata terlalu dekat ke tepi atas foto", "Eyes too close to the top of the photo")
                  if too_high else
                  ("Mata terlalu rendah pada foto: terlalu banyak ruang di atas kepala",
                   "Eyes too low in the photo: too much space above the head"))


def inter_eye_distance(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.min_inter_eye_distance_px
    if not a.single_face:
        return unknown("inter_eye_distance", "px", threshold)
    ied = a.faces[0].inter_eye_distance_px
    return judged("inter_eye_distance", ied >= threshold, ied, "px",
                  score_at_least(ied, threshold), threshold,
                  ("Resolusi wajah cukup", "Face resolution is sufficient"),
                  (f"Resolusi wajah terlalu rendah: jarak antar mata {ied:.0f} px, minimal "
                   f"{threshold:.0f} px", f"Face resolution too low: {ied:.0f} px between the "
                   f"eyes, at least {threshold:.0f} px"))
