"""Capture degradations with known parameters: a flat document becomes a photo or scan.

Order follows the physics: the document is turned and placed on a table (perspective,
background clutter), lit (low light, a shadow, glare), then the camera blurs, adds sensor
noise and compresses.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Degradation:
    quarter_turns: int = 0  # the document turned by 90 degrees this many times (0-3)
    tilt_deg: float = 0.0  # small in-plane rotation on top of the quarter turns
    perspective: float = 0.0  # corner displacement as a share of the document's size
    fill: float = 0.8  # document width (turned) as a share of the photo's width
    clutter: bool = False  # objects on the table around the document
    brightness: float = 1.0  # below 1: low light
    shadow: float = 0.0  # darkening of one side, 0-1
    glare: float = 0.0  # peak brightness added by a specular spot, 0-1
    blur_sigma_px: float = 0.0
    noise_sigma: float = 0.0  # sensor noise, grey levels
    jpeg_quality: int | None = None


@dataclass(frozen=True)
class DegradedImage:
    rgb: np.ndarray
    quad_px: np.ndarray  # the document's corners in the photo (tl tr br bl of the document)
    degradation: Degradation

    def encoded(self, fmt: str = "JPEG", quality: int = 92) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(self.rgb).save(buffer, format=fmt, quality=quality)
        return buffer.getvalue()


def random_degradation(rng: random.Random) -> Degradation:
    """A capture as the counter sees them: most are fair, some are poor on one count."""
    return Degradation(
        quarter_turns=rng.choices((0, 1, 2, 3), weights=(70, 10, 10, 10))[0],
        tilt_deg=rng.uniform(-8, 8), perspective=rng.uniform(0, 0.08),
        fill=rng.uniform(0.65, 0.9), clutter=rng.random() < 0.5,
        brightness=rng.choice((1.0, 1.0, rng.uniform(0.45, 0.9))),
        shadow=rng.choice((0.0, 0.0, rng.uniform(0.2, 0.5))),
        glare=rng.choice((0.0, 0.0, rng.uniform(0.2, 0.5))),
        blur_sigma_px=rng.choice((0.0, rng.uniform(0.3, 1.2))),
        noise_sigma=rng.choice((0.0, rng.uniform(2, 8))),
        jpeg_quality=rng.choice((None, rng.randint(55, 95))))


def _background(size_px: tuple[int, int], clutter: bool, rng: np.random.Generator,
                keep_clear: np.ndarray) -> np.ndarray:
    """A table; clutter stays out of `keep_clear` (a 0/255 mask around the document)."""
    w, h = size_px
    base = rng.uniform(60, 140, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    grain = cv2.resize(rng.normal(0, 12, (h // 8 + 1, w // 8 + 1)).astype(np.float32), (w, h))
    img += grain[..., None]
    if clutter:
        objects = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(4, 10))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(40, w // 3)), y0 + int(rng.integers(20, h // 4))
            colour = rng.uniform(0, 255, 3).tolist()
            if rng.random() < 0.7:
                cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
                cv2.rectangle(objects, (x0, y0), (x1, y1), 255, -1)
            else:  # a pen
                cv2.line(img, (x0, y0), (x1, y1), colour, int(rng.integers(3, 9)))
                cv2.line(objects, (x0, y0), (x1, y1), 255, 9)
            if (objects & keep_clear).any():  # never on or against the document
                img[(objects > 0) & (keep_clear > 0)] = base
            objects[:] = 0
    return img


def degrade(document_rgb: np.ndarray, degradation: Degradation, seed: int) -> DegradedImage:
    d = degradation
    rng = np.random.default_rng(seed)
    doc = np.ascontiguousarray(np.rot90(document_rgb, k=-d.quarter_turns))
    dh, dw = doc.shape[:2]
    landscape = dw >= dh
    out_w, out_h = (1280, 960) if landscape else (1100, 1500)
    scale = d.fill * out_w / dw
    if dh * scale > 0.9 * out_h:
        scale = 0.9 * out_h / dh
    corners = np.array([[0, 0], [dw, 0], [dw, dh], [0, dh]], np.float32)
    placed = (corners - [dw / 2, dh / 2]) * scale
    angle = np.deg2rad(d.tilt_deg)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = placed @ rot.T + [out_w / 2, out_h / 2]
    placed += rng.uniform(-1, 1, (4, 2)) * d.perspective * [dw * scale, dh * scale]
    placed = placed.astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, placed)
    warped = cv2.warpPerspective(doc, matrix, (out_w, out_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((dh, dw), 255, np.uint8), matrix, (out_w, out_h))
    margin = cv2.dilate(mask, np.ones((25, 25), np.uint8))
    img = _background((out_w, out_h), d.clutter, rng, margin)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    img = img * (1 - alpha) + warped.astype(np.float32) * alpha

    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    light = np.full((out_h, out_w), d.brightness, np.float32)
    if d.shadow > 0:
        a = rng.uniform(0, 2 * np.pi)
        side = (np.cos(a) * (xx - out_w / 2) + np.sin(a) * (yy - out_h / 2)) / out_w
        light *= 1 - d.shadow * np.clip(side * 4 + 0.5, 0, 1)
    img *= light[..., None]
    if d.glare > 0:
        cx, cy = rng.uniform(0.2, 0.8) * out_w, rng.uniform(0.2, 0.8) * out_h
        radius = rng.uniform(0.05, 0.12) * out_w
        img += 255 * d.glare * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius ** 2))[
            ..., None]
    if d.blur_sigma_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), d.blur_sigma_px)
    if d.noise_sigma > 0:
        img += rng.normal(0, d.noise_sigma, img.shape).astype(np.float32)
    rgb = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if d.jpeg_quality is not None:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=d.jpeg_quality)
        rgb = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    # The document's own corners: undo the quarter turns so that quad[0] is its top-left.
    quad = np.roll(placed, -(d.quarter_turns % 4), axis=0)
    return DegradedImage(rgb=rgb, quad_px=quad, degradation=d)
