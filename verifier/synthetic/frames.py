"""Camera frames made from a real photo that ships inside a package (scikit-image's
astronaut), with the face at a known size and position."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

# Where dlib's HOG box sits on the original 512x512 astronaut (measured once).
_FACE_BOX_HEIGHT_PX = 87.0
_FACE_CENTER_PX = (222.0, 126.0)
# Head and shoulders, leaving out the suit's badge (a face-like texture for HOG).
_CROP = (80, 0, 370, 300)  # left, top, right, bottom


@functools.lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    import skimage.data

    return np.asarray(skimage.data.astronaut())


def framed_face(face_height_ratio: float = 0.5, center_offset: float = 0.0,
                size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """An RGB frame of `size` holding the face scaled so that the detector's box is about
    `face_height_ratio` of the frame height, shifted horizontally by `center_offset` x width."""
    width, height = size
    left, top, right, bottom = _CROP
    crop = astronaut()[top:bottom, left:right]
    scale = face_height_ratio * height / _FACE_BOX_HEIGHT_PX
    resized = Image.fromarray(crop).resize(
        (max(1, int(crop.shape[1] * scale)), max(1, int(crop.shape[0] * scale))), Image.BILINEAR)
    canvas = Image.new("RGB", (width, height), (235, 235, 235))
    x = int(width / 2 + center_offset * width - (_FACE_CENTER_PX[0] - left) * scale)
    y = int(height / 2 - (_FACE_CENTER_PX[1] - top) * scale)
    canvas.paste(resized, (x, y))
    return np.asarray(canvas)


def approach_sequence(n_frames: int, size: tuple[int, int] = (640, 480)) -> list[np.ndarray]:
    """An applicant walking up to the camera: no face, then small and off-centre, then framed.

    The first sixth of the frames is empty background; the face then grows from 15 % to 55 %
    of the frame height while moving from 30 % off-centre to the centre.
    """
    frames = []
    empty = n_frames // 6
    for i in range(n_frames):
        if i < empty:
            frames.append(np.full((size[1], size[0], 3), 235, np.uint8))
            continue
        t = min(1.0, (i - empty) / max(1, (n_frames - empty) * 0.7))
        frames.append(framed_face(0.15 + 0.40 * t, 0.30 * (1 - t), size))
    return frames
