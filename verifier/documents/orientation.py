"""Which way up a rectified card or data page is: the remaining 180-degree ambiguity after
rectification has put its long side horizontal.

The photo sits at a known place and holds no text, while the place it would occupy turned
180 degrees holds the labels' column. Where the text was detected (`rectify` with PP-OCR's
detector) it decides: it is the content, not the look of the photo (a pale portrait on a
pale background, a guilloche busier than the photo). Without it, or where almost no text was
found, the photo is taken to be the most colourful and textured region.
"""

from __future__ import annotations

import cv2
import numpy as np

from verifier.documents.rectify import Rectified, rotated_180

# Below this share of a box covered by text on either side, the text says nothing.
_MIN_TEXT_SHARE = 0.05


def _box(box: tuple[float, float, float, float], w: int, h: int, turned: bool
         ) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    if turned:
        x0, y0, x1, y1 = 1 - x1, 1 - y1, 1 - x0, 1 - y0
    return round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)


def _text_share(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box
    region = mask[y0:y1, x0:x1]
    return float(region.mean()) if region.size else 0.0


def _busyness(region: np.ndarray) -> float:
    hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV)
    return float(hsv[..., 1].std() + hsv[..., 2].std())


def photo_side_up(rectified: Rectified, portrait_box: tuple[float, float, float, float]
                  ) -> Rectified:
    """`rectified` turned so that its photo is at `portrait_box` (fractions of the size), by
    the text detected on it (`rectify` with a detector) where there is enough, else by the
    photo's colour and texture."""
    image = rectified.image
    h, w = image.shape[:2]
    here, turned = _box(portrait_box, w, h, False), _box(portrait_box, w, h, True)
    if rectified.text_boxes_px:
        mask = np.zeros((h, w), np.uint8)
        for x0, y0, x1, y1 in rectified.text_boxes_px:
            mask[y0:y1, x0:x1] = 1
        text_here, text_turned = _text_share(mask, here), _text_share(mask, turned)
        if max(text_here, text_turned) >= _MIN_TEXT_SHARE:
            return rectified if text_turned >= text_here else rotated_180(rectified)
    busy_here = _busyness(image[here[1]:here[3], here[0]:here[2]])
    busy_turned = _busyness(image[turned[1]:turned[3], turned[0]:turned[2]])
    return rectified if busy_here >= busy_turned else rotated_180(rectified)
