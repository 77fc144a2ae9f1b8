"""Sharpness, natural colour and compression artefacts of the face."""

from __future__ import annotations

import math

import cv2
import numpy as np

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import (CheckSettings, RequirementResult, judged, score_at_least,
                                   score_at_most, score_in_range, unknown)

# Sharpness is measured with the face scaled to this inter-eye distance, so that the same
# face is equally "sharp" in a 640x480 frame and in a 1200x1600 upload.
_SHARPNESS_IED_PX = 64.0


def sharpness(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Variance of the Laplacian of the band across the eyes and brows, normalised by face
    size. The band has the finest detail of a face and does not change with the expression
    (measured on the cheeks and mouth, teeth showing doubled the value)."""
    threshold = s.thresholds.min_face_sharpness
    if not a.single_face or a.regions is None:
        return unknown("sharpness", "variance", threshold)
    left, top, right, bottom = a.regions.eye_band
    patch = a.grey[top:bottom, left:right]
    if patch.size == 0:
        return unknown("sharpness", "variance", threshold,
                       ("Wajah terpotong di tepi gambar", "Face cut off at the image edge"))
    factor = _SHARPNESS_IED_PX / a.faces[0].inter_eye_distance_px
    size = (max(8, round(patch.shape[1] * factor)), max(8, round(patch.shape[0] * factor)))
    norm = cv2.resize(patch, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    value = float(cv2.Laplacian(norm, cv2.CV_32F).var())
    return judged("sharpness", value >= threshold, value, "variance",
                  score_at_least(value, threshold), threshold,
                  ("Foto tajam", "Photo is sharp"),
                  ("Foto buram: tahan kamera dan kepala tetap diam, periksa fokus",
                   "Photo blurred: hold the camera and head still, check the focus"))


def natural_colour(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Skin hue and chroma in CIE Lab: a colour cast turns the hue, a grey photo has none."""
    t = s.thresholds
    if not a.single_face or a.regions is None:
        return unknown("natural_colour", "deg", t.min_skin_hue_deg)
    face = a.lab_region(a.regions.face)
    if len(face) == 0:
        return unknown("natural_colour", "deg", t.min_skin_hue_deg,
                       ("Wajah terpotong di tepi gambar", "Face cut off at the image edge"))
    a_star, b_star = float(np.median(face[:, 1])), float(np.median(face[:, 2]))
    hue = math.degrees(math.atan2(b_star, a_star))
    chroma = math.hypot(a_star, b_star)
    if chroma < t.min_skin_chroma:
        return judged("natural_colour", False, hue, "deg", 0.0, t.min_skin_chroma, ("", ""),
                      ("Foto tidak berwarna atau pucat: gunakan foto berwarna",
                       "Photo has no or faded colour: use a colour photo"))
    if chroma > t.max_skin_chroma:
        return judged("natural_colour", False, hue, "deg", 0.0, t.max_skin_chroma, ("", ""),
                      ("Warna terlalu jenuh", "Colours are oversaturated"))
    lo, hi = t.min_skin_hue_deg, t.max_skin_hue_deg
    return judged("natural_colour", lo <= hue <= hi, hue, "deg", score_in_range(hue, lo, hi),
                  lo if hue < lo else hi, ("Warna alami", "Natural colour"),
                  ("Warna kulit tidak alami (ada rona warna): periksa lampu dan white balance",
                   "Unnatural skin colour (colour cast): check the lights and white balance"))


def blockiness(grey: np.ndarray) -> float:
    """Mean absolute step across 8x8 block borders over the mean step inside blocks (1.0:
    no blocking). Only steps in smooth areas count, where JPEG blocks show."""
    g = grey.astype(np.float32)
    steps = (np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0)).T)
    border_sum = inner_sum = 0.0
    border_n = inner_n = 0
    for d in steps:
        on_border = (np.arange(d.shape[1]) % 8) == 7
        # Edges of the scene would swamp the block steps: ignore steps over 20 grey levels.
        smooth = d < 20
        border_sum += float(d[:, on_border][smooth[:, on_border]].sum())
        border_n += int(smooth[:, on_border].sum())
        inner_sum += float(d[:, ~on_border][smooth[:, ~on_border]].sum())
        inner_n += int(smooth[:, ~on_border].sum())
    border = border_sum / max(border_n, 1)
    inner = inner_sum / max(inner_n, 1)
    return float(border / max(inner, 1e-3))


def compression(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    threshold = s.thresholds.max_blockiness
    if not a.single_face or a.head is None:
        return unknown("compression", "ratio", threshold)
    # The head's bounding box, on the 8-pixel grid a JPEG encoder used.
    ied = a.head.inter_eye_distance_px
    cx, cy = a.head.eye_mid_px
    left = max(0, int(cx - 1.5 * ied)) // 8 * 8
    top = max(0, int(cy - 1.5 * ied)) // 8 * 8
    right, bottom = min(a.width_px, int(cx + 1.5 * ied)), min(a.height_px, int(cy + 2 * ied))
    patch = a.grey[top:bottom, left:right]
    if patch.shape[0] < 16 or patch.shape[1] < 16:
        return unknown("compression", "ratio", threshold,
                       ("Wajah terlalu kecil untuk dinilai", "Face too small to assess"))
    value = blockiness(patch)
    return judged("compression", value <= threshold, value, "ratio",
                  score_at_most(max(0.0, value - 1.0), threshold - 1.0), threshold,
                  ("Tidak ada artefak kompresi", "No compression artefacts"),
                  ("Kompresi JPEG terlalu kuat (kotak-kotak terlihat): simpan dengan kualitas "
                   "lebih tinggi", "JPEG compressed too hard (blocks visible): save at a "
                   "higher quality"))
