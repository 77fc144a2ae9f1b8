"""Camera frames made from a real photo that ships inside a package (scikit-image's
astronaut): her head and shoulders cut out of the studio backdrop and placed on a plain
white background, with the face at a known size and position."""

from __future__ import annotations

import functools

import cv2
import numpy as np

# Measured once on the original 512x512 astronaut: dlib's HOG box height, the midpoint of
# the eyes (5-point landmarks), the chin and the top of the hair.
FACE_BOX_HEIGHT_PX = 87.0
EYE_MID_PX = (225.0, 103.0)
# Head and shoulders, leaving out the suit's badge (a face-like texture for HOG).
_CROP = (80, 0, 370, 300)  # left, top, right, bottom
# A white backdrop as a studio camera sees it: not quite 255, so nothing clips.
BACKDROP_RGB = (243, 243, 241)


@functools.lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    import skimage.data

    return np.asarray(skimage.data.astronaut())


@functools.lru_cache(maxsize=1)
def astronaut_person_mask() -> np.ndarray:
    """Float mask (1 = person) of the head-and-shoulders crop, from GrabCut seeded with a
    rectangle around her; feathered so pasted edges look like a photo, not a stencil."""
    left, top, right, bottom = _CROP
    crop = np.ascontiguousarray(astronaut()[top:bottom, left:right])
    mask = np.zeros(crop.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(7)  # GrabCut's initial clustering is random
    cv2.grabCut(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), mask, (30, 5, 240, 295), bgd, fgd, 5,
                cv2.GC_INIT_WITH_RECT)
    person = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.GaussianBlur(person, (0, 0), 1.0)


def portrait(backdrop: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The head-and-shoulders crop on `backdrop` (same shape as the crop; plain white when
    None) and its person mask."""
    left, top, right, bottom = _CROP
    crop = astronaut()[top:bottom, left:right].astype(np.float32)
    mask = astronaut_person_mask()[..., None]
    if backdrop is None:
        backdrop = np.empty_like(crop)
        backdrop[:] = BACKDROP_RGB
    out = crop * mask + backdrop.astype(np.float32) * (1 - mask)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask[..., 0]


def framed_face(face_height_ratio: float = 0.35, center_offset: float = 0.0,
                size: tuple[int, int] = (640, 480), eye_height_ratio: float = 0.47) -> np.ndarray:
    """An RGB frame of `size` on a white backdrop holding the face scaled so that the
    detector's box is about `face_height_ratio` of the frame height, shifted horizontally by
    `center_offset` x width, with the eyes at `eye_height_ratio` of the height from the top.
    The defaults leave room for the passport crop."""
    width, height = size
    left, top, _, _ = _CROP
    person, _ = portrait()
    scale = face_height_ratio * height / FACE_BOX_HEIGHT_PX
    resized = cv2.resize(person, (max(1, int(person.shape[1] * scale)),
                                  max(1, int(person.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = BACKDROP_RGB
    x = int(width / 2 + center_offset * width - (EYE_MID_PX[0] - left) * scale)
    y = int(eye_height_ratio * height - (EYE_MID_PX[1] - top) * scale)
    # Paste with clipping: the shoulders may run off the frame.
    src_x0, src_y0 = max(0, -x), max(0, -y)
    dst_x0, dst_y0 = max(0, x), max(0, y)
    w = min(resized.shape[1] - src_x0, width - dst_x0)
    h = min(resized.shape[0] - src_y0, height - dst_y0)
    if w > 0 and h > 0:
        canvas[dst_y0:dst_y0 + h, dst_x0:dst_x0 + w] = resized[src_y0:src_y0 + h,
                                                               src_x0:src_x0 + w]
    return canvas


def approach_sequence(n_frames: int, size: tuple[int, int] = (640, 480)) -> list[np.ndarray]:
    """An applicant walking up to the camera: no face, then small and off-centre, then framed
    and holding still.

    The first sixth of the frames is empty background; the face then grows from 12 % to 35 %
    of the frame height while moving from 30 % off-centre to the centre, and stays there for
    the last 30 % of the frames.
    """
    frames = []
    empty = n_frames // 6
    for i in range(n_frames):
        if i < empty:
            frame = np.empty((size[1], size[0], 3), np.uint8)
            frame[:] = BACKDROP_RGB
            frames.append(frame)
            continue
        t = min(1.0, (i - empty) / max(1, (n_frames - empty) * 0.7))
        frames.append(framed_face(0.12 + 0.23 * t, 0.30 * (1 - t), size))
    return frames
