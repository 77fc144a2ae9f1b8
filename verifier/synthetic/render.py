"""Drawing helpers shared by the synthetic documents: fonts, security backgrounds, portraits.

Fonts come from Pillow itself (its bundled FreeType font), so documents render the same on
every machine without system fonts.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from verifier.synthetic.frames import astronaut


@functools.lru_cache(maxsize=32)
def font(size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size_px)  # type: ignore[return-value]


def text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], value: str, size_px: int,
         fill: tuple[int, int, int] = (20, 20, 25), bold: bool = True,
         anchor: str = "la") -> None:
    # Pillow's font has no bold face; a one-pixel stroke in the same colour stands in for it.
    draw.text(xy, value, font=font(size_px), fill=fill, anchor=anchor,
              stroke_width=max(1, size_px // 40) if bold else 0, stroke_fill=fill)


def guilloche(size_px: tuple[int, int], base: tuple[int, int, int],
              line: tuple[int, int, int], seed: int) -> Image.Image:
    """A security-print background: fine interfering sine lines over a flat tint."""
    w, h = size_px
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    field = np.zeros((h, w), np.float32)
    for _ in range(3):
        fx, fy, ph = rng.uniform(0.004, 0.02), rng.uniform(0.01, 0.05), rng.uniform(0, 6.3)
        field += np.sin(x * fx * 6.3 + np.sin(y * fy + ph) * 3.0 + y * 0.08)
    mask = (np.abs(np.sin(field * 2.2)) > 0.93).astype(np.float32)[..., None] * 0.6
    img = np.array(base, np.float32) * (1 - mask) + np.array(line, np.float32) * mask
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def portrait(size_px: tuple[int, int], background: tuple[int, int, int]) -> Image.Image:
    """The astronaut's head and shoulders on a plain background, filling `size_px`."""
    photo = astronaut()[0:330, 70:370]  # head and shoulders, leaving out the badge
    w, h = size_px
    img = Image.fromarray(photo).resize((w, int(w * photo.shape[0] / photo.shape[1])),
                                        Image.BILINEAR)
    canvas = Image.new("RGB", size_px, background)
    canvas.paste(img, (0, max(0, h - img.height)))
    return canvas


def signature(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    xs = np.linspace(x0, x1, 40)
    ys = (y0 + y1) / 2 + np.cumsum(rng.normal(0, (y1 - y0) / 8, 40)).clip(-(y1 - y0) / 2,
                                                                          (y1 - y0) / 2)
    draw.line(list(zip(xs.tolist(), ys.tolist())), fill=(20, 20, 40), width=2)
