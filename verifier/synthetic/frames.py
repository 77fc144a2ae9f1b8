"""Camera frames made from a real photo that ships inside a package (scikit-image's
astronaut): her head and shoulders cut out of the studio backdrop and placed on a plain
white background, with the face at a known size and position.

She smiles with her teeth showing, which a passport photo may not; the frames show her with
the mouth closed unless asked for the smile (see `_close_mouth`)."""

from __future__ import annotations

import functools
import math

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


@functools.lru_cache(maxsize=2)
def astronaut(smiling: bool = False) -> np.ndarray:
    """The 512x512 photo; with her mouth closed (`_close_mouth`) unless `smiling`."""
    import skimage.data

    photo = np.asarray(skimage.data.astronaut())
    if not smiling:
        photo = _close_mouth(photo)
    photo.setflags(write=False)
    return photo


@functools.lru_cache(maxsize=1)
def astronaut_person_mask() -> np.ndarray:
    """Float mask (1 = person) of the head-and-shoulders crop, from GrabCut seeded with a
    rectangle around her; feathered so pasted edges look like a photo, not a stencil."""
    left, top, right, bottom = _CROP
    crop = np.ascontiguousarray(astronaut(smiling=True)[top:bottom, left:right])
    mask = np.zeros(crop.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(7)  # GrabCut's initial clustering is random
    cv2.grabCut(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), mask, (30, 5, 240, 295), bgd, fgd, 5,
                cv2.GC_INIT_WITH_RECT)
    person = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.GaussianBlur(person, (0, 0), 1.0)


# Her lips in the 512x512 photo, from the face mesh (verifier/face/mesh.py) measured once:
# the inner edges of the upper and lower lip at the middle, the mouth corners, the base of
# the nose and the chin.
_LIPS_X = 222.8
_UPPER_LIP_INNER_Y, _LOWER_LIP_INNER_Y = 142.4, 149.8
_MOUTH_CORNERS = ((199.4, 139.5), (247.2, 141.6))
_MOUTH_HALF_WIDTH, _NOSE_BASE_Y, _CHIN_Y = 24.0, 128.0, 182.0


def _close_mouth(photo: np.ndarray) -> np.ndarray:
    """The photo with the smile relaxed: a smooth warp brings both lips to the line between
    them (hiding the teeth), fading out towards the nose and the chin, and moves the raised
    corners of the mouth down and inwards. Only the mouth area moves. With it the face mesh
    reads the lips 0.01 IED apart and the corners 0.03 IED above the lips' middle, against
    0.17 and 0.13 for the original smile (the thresholds are 0.10 and 0.07)."""
    h, w = photo.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    line = (_UPPER_LIP_INNER_Y + _LOWER_LIP_INNER_Y) / 2
    across = np.clip(1 - ((xs - _LIPS_X) / _MOUTH_HALF_WIDTH) ** 2, 0, 1)
    # Where each output pixel samples the original: above the line from higher up (the
    # upper lip comes down), below it from lower down (the lower lip comes up).
    up = (np.clip((ys - _NOSE_BASE_Y) / (line - _NOSE_BASE_Y), 0, 1)
          * (line - _UPPER_LIP_INNER_Y + 0.8))
    down = np.clip((_CHIN_Y - ys) / (_CHIN_Y - line), 0, 1) * (_LOWER_LIP_INNER_Y - line + 0.8)
    dy = np.where(ys < line, -up, down) * across
    dx = np.zeros_like(dy)
    for (cx, cy), outwards in zip(_MOUTH_CORNERS, (-1.0, 1.0)):
        bump = np.exp(-(((xs - cx) / 9.0) ** 2 + ((ys - cy - 3.0) / 9.0) ** 2))
        dy -= 8.0 * bump
        dx += outwards * 6.0 * bump
    return cv2.remap(photo, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def portrait(backdrop: np.ndarray | None = None, smiling: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
    """The head-and-shoulders crop on `backdrop` (same shape as the crop; plain white when
    None) and its person mask; the mouth closed unless `smiling`."""
    left, top, right, bottom = _CROP
    crop = astronaut(smiling)[top:bottom, left:right].astype(np.float32)
    mask = astronaut_person_mask()[..., None]
    if backdrop is None:
        backdrop = np.empty_like(crop)
        backdrop[:] = BACKDROP_RGB
    out = crop * mask + backdrop.astype(np.float32) * (1 - mask)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask[..., 0]


def framed_face(face_height_ratio: float = 0.35, center_offset: float = 0.0,
                size: tuple[int, int] = (640, 480), eye_height_ratio: float = 0.47,
                smiling: bool = False) -> np.ndarray:
    """An RGB frame of `size` on a white backdrop holding the face scaled so that the
    detector's box is about `face_height_ratio` of the frame height, shifted horizontally by
    `center_offset` x width, with the eyes at `eye_height_ratio` of the height from the top.
    The defaults leave room for the passport crop."""
    width, height = size
    left, top, _, _ = _CROP
    person, _ = portrait(smiling=smiling)
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
    and holding still, smiling at first and then with a neutral face.

    The first sixth of the frames is empty background; the face then grows from 12 % to 35 %
    of the frame height while moving from 30 % off-centre to the centre, and stays there for
    the last 30 % of the frames, smiling for the first third of that time.
    """
    frames = []
    empty = n_frames // 6
    walk = max(1, (n_frames - empty) * 0.7)
    hold_start = empty + math.ceil(walk)
    smile_until = hold_start + (n_frames - hold_start) // 3
    for i in range(n_frames):
        if i < empty:
            frame = np.empty((size[1], size[0], 3), np.uint8)
            frame[:] = BACKDROP_RGB
            frames.append(frame)
            continue
        t = min(1.0, (i - empty) / walk)
        frames.append(framed_face(0.12 + 0.23 * t, 0.30 * (1 - t), size,
                                  smiling=i < smile_until))
    return frames
