"""A face photo printed onto an identity card and photographed again, with the degradations
that make document photos hard to match: a small print, a security pattern over the photo,
ink gamut and print blur, perspective, defocus, sensor noise, a glare spot, JPEG.

Used to build document-vs-live pairs with known ground truth from real face photos: the
card carries photo A of a person, the live capture is photo B of the same (or another) person.
The card is a simple composite in the KTP's proportions (85.6 x 54 mm, photo on the right);
it is not meant to pass the document reader, only to put the face where a KTP has it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from verifier.imaging import encode_jpeg
from verifier.synthetic.render import guilloche

CARD_SIZE_PX = (856, 540)  # 10 px/mm, the ID-1 card format
PHOTO_BOX_PX = (620, 125, 820, 390)  # left, top, right, bottom: about 20 x 26.5 mm
_TINT, _LINE = (200, 226, 242), (150, 195, 225)  # the KTP's light blue and its pattern


@dataclass(frozen=True)
class Degradation:
    """How one recapture is degraded; `sample` draws a plausible mix from a seed."""

    card_width_px: int = 640  # width of the card in the recaptured photo (phone at ~25 cm)
    pattern_opacity: float = 0.25  # guilloche lines printed over the photo
    print_blur_sigma_px: float = 1.0  # at card resolution (ink spread, 300 dpi printer)
    tilt_deg: float = 8.0  # perspective: rotation about the card's vertical axis
    defocus_sigma_px: float = 0.8  # at output resolution
    noise_sigma: float = 4.0  # grey levels
    glare: float = 0.3  # peak brightening of the glare spot, 0-1
    jpeg_quality: int = 70
    fade: float = 0.15  # an old card: contrast lost towards paper white, 0-1

    @classmethod
    def sample(cls, seed: int) -> Degradation:
        rng = np.random.default_rng(seed)
        return cls(card_width_px=int(rng.integers(500, 1100)),
                   pattern_opacity=float(rng.uniform(0.05, 0.3)),
                   print_blur_sigma_px=float(rng.uniform(0.5, 1.6)),
                   tilt_deg=float(rng.uniform(-15, 15)),
                   defocus_sigma_px=float(rng.uniform(0.0, 1.5)),
                   noise_sigma=float(rng.uniform(1, 8)), glare=float(rng.uniform(0, 0.4)),
                   jpeg_quality=int(rng.integers(45, 90)), fade=float(rng.uniform(0, 0.35)))


@dataclass(frozen=True)
class Recaptured:
    rgb: np.ndarray
    photo_box_px: tuple[int, int, int, int]  # where the printed photo lies (bounding box)
    degradation: Degradation


def _fit_photo(photo: np.ndarray, w: int, h: int) -> np.ndarray:
    """Crop the photo to the box's aspect ratio around its centre, then resize."""
    ph, pw = photo.shape[:2]
    if pw / ph > w / h:
        cw = int(ph * w / h)
        photo = photo[:, (pw - cw) // 2:(pw - cw) // 2 + cw]
    else:
        ch = int(pw * h / w)
        photo = photo[(ph - ch) // 2:(ph - ch) // 2 + ch]
    return cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)


def card_with_photo(photo_rgb: np.ndarray, seed: int, pattern_opacity: float = 0.25
                    ) -> np.ndarray:
    """The flat card (CARD_SIZE_PX) with `photo_rgb` printed in PHOTO_BOX_PX."""
    rng = np.random.default_rng(seed)
    background = np.asarray(guilloche(CARD_SIZE_PX, _TINT, _LINE, seed))
    card = background.astype(np.float32)
    lines = np.any(background != _TINT, axis=-1).astype(np.float32)[..., None]
    for row in range(12):  # dark bars where the card's text lines are
        y0 = 150 + row * 30
        card[y0:y0 + 14, 40:40 + int(rng.integers(200, 520))] = (35, 35, 45)
    x0, y0, x1, y1 = PHOTO_BOX_PX
    photo = _fit_photo(photo_rgb, x1 - x0, y1 - y0).astype(np.float32)
    over = lines[y0:y1, x0:x1] * pattern_opacity
    card[y0:y1, x0:x1] = photo * (1 - over) + np.array(_LINE, np.float32) * over
    return np.clip(card, 0, 255).astype(np.uint8)


def recapture(photo_rgb: np.ndarray, seed: int, degradation: Degradation | None = None
              ) -> Recaptured:
    """`photo_rgb` printed on a card and photographed on a desk; deterministic per seed."""
    d = degradation or Degradation.sample(seed)
    rng = np.random.default_rng(seed + 1)
    card = card_with_photo(photo_rgb, seed, d.pattern_opacity).astype(np.float32)
    if d.print_blur_sigma_px > 0:
        card = cv2.GaussianBlur(card, (0, 0), d.print_blur_sigma_px)
    card = card * (1 - d.fade) + 235.0 * d.fade  # ink fades towards the paper
    cw, ch = CARD_SIZE_PX
    scale = d.card_width_px / cw
    out_w, out_h = int(d.card_width_px * 1.4), int(ch * scale * 1.6)
    # Perspective: the far edge shrinks by the tilt's share of the card's height.
    shrink = np.sin(np.radians(abs(d.tilt_deg))) * 0.5 * ch * scale
    ox, oy = (out_w - cw * scale) / 2, (out_h - ch * scale) / 2
    left_in, right_in = (shrink, 0.0) if d.tilt_deg > 0 else (0.0, shrink)
    dst = np.float32([[ox, oy + left_in], [ox + cw * scale, oy + right_in],
                      [ox + cw * scale, oy + ch * scale - right_in],
                      [ox, oy + ch * scale - left_in]])
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    desk = np.full((out_h, out_w, 3), (96, 82, 70), np.float32)  # a wooden desk
    warped = cv2.warpPerspective(card, matrix, (out_w, out_h), flags=cv2.INTER_AREA,
                                 borderMode=cv2.BORDER_TRANSPARENT, dst=desk)
    if d.defocus_sigma_px > 0:
        warped = cv2.GaussianBlur(warped, (0, 0), d.defocus_sigma_px)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    gx, gy = rng.uniform(0.3, 0.9) * out_w, rng.uniform(0.2, 0.8) * out_h
    spot = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * (0.12 * out_w) ** 2))
    warped = warped + (255.0 - warped) * d.glare * spot[..., None]
    warped = warped + rng.normal(0, d.noise_sigma, warped.shape).astype(np.float32)
    rgb = np.clip(warped, 0, 255).astype(np.uint8)
    rgb = np.asarray(Image.open(io.BytesIO(encode_jpeg(rgb, d.jpeg_quality))).convert("RGB"))
    corners = cv2.perspectiveTransform(
        np.float32([[[PHOTO_BOX_PX[0], PHOTO_BOX_PX[1]], [PHOTO_BOX_PX[2], PHOTO_BOX_PX[1]],
                     [PHOTO_BOX_PX[2], PHOTO_BOX_PX[3]], [PHOTO_BOX_PX[0], PHOTO_BOX_PX[3]]]]),
        matrix)[0]
    box = (int(corners[:, 0].min()), int(corners[:, 1].min()),
           int(np.ceil(corners[:, 0].max())), int(np.ceil(corners[:, 1].max())))
    return Recaptured(rgb=np.ascontiguousarray(rgb), photo_box_px=box, degradation=d)
