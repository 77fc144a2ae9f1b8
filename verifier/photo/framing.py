"""Framing of the face in the image: one face, large enough, centred, room for the crop.

`face_size` and `face_centred` read the live-framing thresholds (FramingConfig); at the
counter `crop_room` checks that the passport crop fits inside the frame.
"""

from __future__ import annotations

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.crop import passport_crop_rect
from verifier.photo.result import (CheckSettings, RequirementResult, judged,
                                   score_at_least, score_at_most, unknown)


def single_face(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    n = len(a.faces)
    if n == 0:
        failed = ("Wajah tidak terdeteksi: hadapkan wajah ke kamera",
                  "No face detected: face the camera")
    else:
        failed = ("Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera",
                  "More than one face: only the applicant may be in front of the camera")
    return judged("single_face", n == 1, n, "count", 100.0 if n == 1 else 0.0, 1.0,
                  ("Satu wajah terdeteksi", "One face detected"), failed)


def face_size(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.framing.min_face_height_ratio
    if not a.single_face:
        return unknown("face_size", "ratio", threshold)
    ratio = a.faces[0].box.height_px / a.height_px
    return judged("face_size", ratio >= threshold, ratio, "ratio",
                  score_at_least(ratio, threshold), threshold,
                  ("Ukuran wajah cukup", "Face size is fine"),
                  ("Wajah terlalu kecil: mendekatlah ke kamera",
                   "Face too small: move closer to the camera"))


def face_centred(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.framing.max_center_offset_ratio
    if not a.single_face:
        return unknown("face_centred", "ratio", threshold)
    # Signed: negative when the face sits in the left half of the image.
    offset = (a.faces[0].box.center_x_px - a.width_px / 2.0) / a.width_px
    side_id, side_en = ("kiri", "left") if offset < 0 else ("kanan", "right")
    return judged("face_centred", abs(offset) <= threshold, offset, "ratio",
                  score_at_most(abs(offset), threshold), threshold,
                  ("Wajah di tengah", "Face is centred"),
                  (f"Wajah tidak di tengah (terlalu ke {side_id} pada gambar): geser ke tengah",
                   f"Face off-centre (too far {side_en} in the image): move to the centre"))


def crop_room(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """The passport crop around the head must lie inside the frame. Value: the share of the
    crop's height that falls outside the frame (0 when it fits)."""
    if not a.single_face or a.head is None:
        return unknown("crop_room", "ratio", 0.0)
    left, top, right, bottom = passport_crop_rect(a.head, s.capture)
    crop_h = bottom - top
    outside = max(0.0, -top, -left, right - a.width_px, bottom - a.height_px) / crop_h
    if -top >= max(-left, right - a.width_px, bottom - a.height_px):
        failed = ("Kepala terlalu tinggi di gambar: turunkan kamera atau duduk lebih rendah",
                  "Head too high in the frame: lower the camera or sit lower")
    elif bottom > a.height_px:
        failed = ("Kepala terlalu rendah di gambar: duduk tegak atau naikkan kamera",
                  "Head too low in the frame: sit up straight or raise the camera")
    else:
        failed = ("Terlalu dekat ke tepi gambar: mundur sedikit atau geser ke tengah",
                  "Too close to the edge of the frame: step back a little or move to the centre")
    ok = outside <= 0.0
    return judged("crop_room", ok, outside, "ratio",
                  100.0 if ok else max(0.0, 50.0 - 100.0 * outside), 0.0,
                  ("Ada cukup ruang untuk foto paspor", "Room for the passport crop"), failed)
