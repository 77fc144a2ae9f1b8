"""Framing requirements for live frames: one face, large enough, centred.

These run on every analysed frame at the counter, so they only use the detector's output.
"""

from __future__ import annotations

from verifier.config import FramingConfig
from verifier.face.detection import DetectedFace
from verifier.photo.result import Outcome, RequirementResult, score_at_least, score_at_most


def single_face(faces: tuple[DetectedFace, ...]) -> RequirementResult:
    n = len(faces)
    if n == 1:
        msg_id, msg_en = "Satu wajah terdeteksi", "One face detected"
    elif n == 0:
        msg_id, msg_en = ("Wajah tidak terdeteksi: hadapkan wajah ke kamera",
                          "No face detected: face the camera")
    else:
        msg_id, msg_en = ("Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera",
                          "More than one face: only the applicant may be in front of the camera")
    return RequirementResult(
        requirement="single_face", outcome=Outcome.PASS if n == 1 else Outcome.FAIL,
        value=float(n), unit="count", score=100.0 if n == 1 else 0.0, threshold=1.0,
        message_id=msg_id, message_en=msg_en)


def _unknown(requirement: str, unit: str, threshold: float) -> RequirementResult:
    return RequirementResult(
        requirement=requirement, outcome=Outcome.UNKNOWN, value=0.0, unit=unit, score=0.0,
        threshold=threshold, message_id="Tidak dapat dinilai tanpa tepat satu wajah",
        message_en="Cannot be assessed without exactly one face")


def face_size(faces: tuple[DetectedFace, ...], height_px: int,
              config: FramingConfig) -> RequirementResult:
    threshold = config.min_face_height_ratio
    if len(faces) != 1:
        return _unknown("face_size", "ratio", threshold)
    ratio = faces[0].box.height_px / height_px
    ok = ratio >= threshold
    return RequirementResult(
        requirement="face_size", outcome=Outcome.PASS if ok else Outcome.FAIL, value=ratio,
        unit="ratio", score=score_at_least(ratio, threshold), threshold=threshold,
        message_id="Ukuran wajah cukup" if ok else "Wajah terlalu kecil: mendekatlah ke kamera",
        message_en="Face size is fine" if ok else "Face too small: move closer to the camera")


def face_centred(faces: tuple[DetectedFace, ...], width_px: int,
                 config: FramingConfig) -> RequirementResult:
    threshold = config.max_center_offset_ratio
    if len(faces) != 1:
        return _unknown("face_centred", "ratio", threshold)
    # Signed: negative when the face sits in the left half of the image.
    offset = (faces[0].box.center_x_px - width_px / 2.0) / width_px
    ok = abs(offset) <= threshold
    if ok:
        msg_id, msg_en = "Wajah di tengah", "Face is centred"
    else:
        side_id, side_en = ("kiri", "left") if offset < 0 else ("kanan", "right")
        msg_id = f"Wajah tidak di tengah (terlalu ke {side_id} pada gambar): geser ke tengah"
        msg_en = f"Face off-centre (too far {side_en} in the image): move to the centre"
    return RequirementResult(
        requirement="face_centred", outcome=Outcome.PASS if ok else Outcome.FAIL, value=offset,
        unit="ratio", score=score_at_most(abs(offset), threshold), threshold=threshold,
        message_id=msg_id, message_en=msg_en)
