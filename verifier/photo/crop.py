"""The passport photo cut from an accepted counter frame: upright (roll removed), the head
(chin to crown) at a fixed share of the height, in the passport aspect ratio."""

from __future__ import annotations

import math

import cv2
import numpy as np

from verifier.config import CaptureConfig
from verifier.imaging import encode_jpeg
from verifier.photo.analysis import HeadGeometry


def _geometry(head: HeadGeometry, capture: CaptureConfig) -> tuple[float, float, float]:
    """(scale from frame to output, output width, output height)."""
    out_h = float(capture.output_height_px)
    out_w = round(out_h * capture.aspect_width_per_height)
    scale = out_h * capture.head_height_ratio / max(head.head_height_px, 1.0)
    return scale, float(out_w), out_h


def passport_crop_rect(head: HeadGeometry, capture: CaptureConfig
                       ) -> tuple[float, float, float, float]:
    """The crop in frame pixels (left, top, right, bottom), ignoring roll; it may extend
    past the frame, which `crop_room` reports."""
    scale, out_w, out_h = _geometry(head, capture)
    crown_up = math.dist(head.eye_mid_px, head.crown_px)
    top = head.eye_mid_px[1] - crown_up - capture.crown_margin_ratio * out_h / scale
    left = head.eye_mid_px[0] - out_w / 2 / scale
    return (left, top, left + out_w / scale, top + out_h / scale)


def passport_photo(rgb: np.ndarray, head: HeadGeometry, capture: CaptureConfig) -> np.ndarray:
    """The passport photo as RGB pixels: rotated about the eyes to level them, scaled so the
    head fills `head_height_ratio` of the height, the crown `crown_margin_ratio` below the top."""
    scale, out_w, out_h = _geometry(head, capture)
    crown_up = math.dist(head.eye_mid_px, head.crown_px)
    m = cv2.getRotationMatrix2D(head.eye_mid_px, head.roll_deg, scale)
    # Move the (rotated, scaled) eye midpoint to where the output geometry puts it.
    m[0, 2] += out_w / 2 - head.eye_mid_px[0]
    m[1, 2] += capture.crown_margin_ratio * out_h + crown_up * scale - head.eye_mid_px[1]
    return cv2.warpAffine(rgb, m, (int(out_w), int(out_h)), flags=cv2.INTER_AREA
                          if scale < 1 else cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def passport_jpeg(rgb: np.ndarray, head: HeadGeometry, capture: CaptureConfig) -> bytes:
    return encode_jpeg(passport_photo(rgb, head, capture), capture.jpeg_quality)
