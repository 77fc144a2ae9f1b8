"""Head pose: yaw, pitch and roll within a few degrees of frontal."""

from __future__ import annotations

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import CheckSettings, RequirementResult, judged, score_at_most, unknown


def roll(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_roll_deg
    if not a.single_face:
        return unknown("roll", "deg", threshold)
    # The eye line measures roll directly; no 3D model is needed for it.
    value = a.faces[0].roll_deg
    side_id, side_en = ("kanan", "right") if value > 0 else ("kiri", "left")
    return judged("roll", abs(value) <= threshold, value, "deg",
                  score_at_most(abs(value), threshold), threshold,
                  ("Kepala tegak", "Head is level"),
                  (f"Kepala miring ke {side_id} pada gambar: tegakkan kepala",
                   f"Head tilted to the {side_en} in the image: hold the head level"))


def yaw(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_yaw_deg
    if not a.single_face or a.pose is None:
        return unknown("yaw", "deg", threshold)
    value = a.pose.yaw_deg
    side_id, side_en = ("kanan", "right") if value > 0 else ("kiri", "left")
    return judged("yaw", abs(value) <= threshold, value, "deg",
                  score_at_most(abs(value), threshold), threshold,
                  ("Wajah menghadap lurus ke kamera", "Face looks straight at the camera"),
                  (f"Wajah menoleh ke {side_id} pada gambar: hadapkan wajah lurus ke kamera",
                   f"Face turned to the {side_en} in the image: face the camera straight on"))


def pitch(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_pitch_deg
    if not a.single_face or a.pose is None:
        return unknown("pitch", "deg", threshold)
    value = a.pose.pitch_deg
    if value > 0:
        failed = ("Dagu terlalu tinggi: turunkan dagu sedikit",
                  "Chin too high: lower your chin a little")
    else:
        failed = ("Dagu terlalu rendah: angkat dagu sedikit",
                  "Chin too low: raise your chin a little")
    return judged("pitch", abs(value) <= threshold, value, "deg",
                  score_at_most(abs(value), threshold), threshold,
                  ("Posisi dagu sesuai", "Chin position is right"), failed)
