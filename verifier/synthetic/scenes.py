"""Captures `degrade` does not make, with known geometry: a flat scan that the document fills,
a card held at a steep angle with a thumb over a corner, and a blank sheet lying next to the
card. For tests and benchmarks of finding the document.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SCENE_PX = (1280, 960)
_SKIN = (198, 150, 120)


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray
    quad_px: np.ndarray  # the document's corners in the image (tl tr br bl of the document)


def _table(rng: np.random.Generator) -> np.ndarray:
    w, h = _SCENE_PX
    base = rng.uniform(60, 140, 3)
    grain = cv2.resize(rng.normal(0, 12, (h // 8 + 1, w // 8 + 1)).astype(np.float32), (w, h))
    return np.clip(base + grain[..., None], 0, 255).astype(np.float32)


def _place(document: np.ndarray, quad: np.ndarray, canvas: np.ndarray) -> np.ndarray:
    h, w = document.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    size = (canvas.shape[1], canvas.shape[0])
    warped = cv2.warpPerspective(document, matrix, size, flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, size)[..., None]
    return canvas * (1 - alpha) + warped.astype(np.float32) * alpha


def flat_scan(document: np.ndarray, quarter_turns: int = 0, margin: float = 0.0,
              bed: tuple[int, int, int] = (246, 246, 244)) -> Scene:
    """A scanner's image: the document turned by quarter turns (clockwise), with a margin of
    the bed around it as a share of its width (0: cropped to the document's edges)."""
    turned = np.ascontiguousarray(np.rot90(document, k=-quarter_turns))
    h, w = turned.shape[:2]
    pad = round(margin * w)
    rgb = cv2.copyMakeBorder(turned, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=bed)
    quad = np.array([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]],
                    np.float32)
    return Scene(rgb, np.roll(quad, -(quarter_turns % 4), axis=0))


def held_at_angle(document: np.ndarray, yaw_deg: float, seed: int, fill: float = 0.7,
                  thumb: bool = False) -> Scene:
    """The document photographed turned `yaw_deg` about its vertical axis (its far side
    shorter, as a pinhole camera sees it), on a table; with `thumb`, a thumb covers its
    bottom-left corner."""
    rng = np.random.default_rng(seed)
    h, w = document.shape[:2]
    out_w, out_h = _SCENE_PX
    # The card's corners in 3-D, centred, width 1; the camera at distance 2.5 widths.
    yaw = np.deg2rad(yaw_deg)
    xs, ys = np.array([-0.5, 0.5, 0.5, -0.5]), np.array([-0.5, -0.5, 0.5, 0.5]) * h / w
    x3, z3 = xs * np.cos(yaw), 2.5 + xs * np.sin(yaw)
    scale = fill * out_w * 2.5
    quad = np.stack([x3 / z3 * scale + out_w / 2, ys / z3 * scale + out_h / 2], axis=1)
    img = _place(document, quad, _table(rng))
    if thumb:
        x, y = quad[3]
        size = 0.12 * out_w
        cv2.ellipse(img, (round(x + 0.2 * size), round(y)), (round(size), round(0.45 * size)),
                    -35, 0, 360, _SKIN, -1)
    return Scene(np.clip(img + 0.5, 0, 255).astype(np.uint8), quad.astype(np.float32))


def beside_a_blank_sheet(document: np.ndarray, seed: int) -> Scene:
    """The card on a table next to a larger blank sheet of paper (a quadrilateral bigger
    than the card, with no text on it)."""
    rng = np.random.default_rng(seed)
    h, w = document.shape[:2]
    out_w, out_h = _SCENE_PX
    img = _table(rng)
    sheet = np.array([[40, 60], [700, 40], [720, 900], [60, 920]], np.float32)
    cv2.fillConvexPoly(img, sheet.astype(np.int32), (238, 238, 232))
    scale = 0.4 * out_w / w
    x0, y0 = 760.0, 300.0
    quad = np.array([[x0, y0], [x0 + w * scale, y0], [x0 + w * scale, y0 + h * scale],
                     [x0, y0 + h * scale]], np.float32)
    img = _place(document, quad, img)
    return Scene(np.clip(img + 0.5, 0, 255).astype(np.uint8), quad)
