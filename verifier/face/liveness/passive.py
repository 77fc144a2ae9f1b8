"""Passive cues against replays, measured on one frame: a screen's moiré (periodic
patterns in the frequency domain) and the straight edges of a print or a phone held around
the face. Each returns a plain number; `judge` decides over the session.

A refresh-banding score (peaks in the spectrum of the face's row means) was tried and left
out: on real faces the row profile is peaky by itself (eyes, mouth), bench/REPORT-liveness.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from verifier.face.detection import FaceBox

# The spectrum is taken on a square of this side at the camera's own resolution, centred on
# the face: a display's pixel grid beats with the camera's near the sampling limit, which
# any resampling would erase.
_PATCH_PX = 128
# Peaks count between these radii (cycles per patch): below, the face's own shape. The
# points on a 16-cycle lattice hold the JPEG 8x8 blocks' harmonics and are left out.
_MIN_FREQ, _MAX_FREQ, _JPEG_PERIOD = 8, 63, _PATCH_PX // 8


def _peak_score(values: np.ndarray, band: np.ndarray) -> float:
    """How far the strongest value in `band` stands above the rest, in robust standard
    deviations (median absolute deviation x 1.48)."""
    inside = values[band]
    median = float(np.median(inside))
    spread = 1.48 * float(np.median(np.abs(inside - median))) + 1e-6
    return (float(inside.max()) - median) / spread


def _band() -> np.ndarray:
    c = _PATCH_PX // 2
    fy, fx = np.mgrid[-c:c, -c:c]
    radius = np.hypot(fx, fy)
    near_jpeg = ((np.abs((fx + 1) % _JPEG_PERIOD - 1) <= 1)
                 & (np.abs((fy + 1) % _JPEG_PERIOD - 1) <= 1))
    return (radius >= _MIN_FREQ) & (radius <= _MAX_FREQ) & ~near_jpeg


_BAND = _band()
_WINDOW = np.outer(np.hanning(_PATCH_PX), np.hanning(_PATCH_PX)).astype(np.float32)


def screen_score(grey: np.ndarray, box: FaceBox) -> float:
    """Moiré: how far the strongest peak of the face's spectrum (its smooth falloff
    removed) stands out. Skin and hair fall off smoothly, so a live face scores low; a
    screen's pixel grid, sampled again by the camera, makes sharp peaks."""
    h, w = grey.shape[:2]
    half = _PATCH_PX // 2
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    left, top = min(max(0, cx - half), w - _PATCH_PX), min(max(0, cy - half), h - _PATCH_PX)
    if left < 0 or top < 0:
        return 0.0  # a frame smaller than the patch
    patch = grey[top:top + _PATCH_PX, left:left + _PATCH_PX].astype(np.float32)
    detail = patch - cv2.GaussianBlur(patch, (0, 0), 3.0)
    spectrum = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(detail * _WINDOW))))
    return _peak_score(spectrum - _background(spectrum), _BAND)


def _background(spectrum: np.ndarray) -> np.ndarray:
    """What the spectrum would be without isolated peaks: the largest of its medians over
    a 5x5 square, 7 bins across and 7 bins down. A face's straight edges make ridges along
    the axes (and a screen's grid is often close to them); a ridge keeps its level under
    the median along it, so only a point-like peak stands above all three."""
    square = cv2.medianBlur(spectrum.astype(np.float32), 5)
    across = np.median(np.stack([np.roll(spectrum, k, axis=1) for k in range(-3, 4)]), axis=0)
    down = np.median(np.stack([np.roll(spectrum, k, axis=0) for k in range(-3, 4)]), axis=0)
    return np.maximum(square, np.maximum(across, down))


def _edge_contrast(grey: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    """How consistently one side of the segment is brighter than the other: the share of
    points along it whose two sides (4 px away, across the segment) differ by more than
    _EDGE_STEP in the segment's dominant direction. A sheet's edge keeps one sign along its
    whole length; hair strands and folds of cloth change it."""
    h, w = grey.shape[:2]
    length = max(1.0, float(np.hypot(x1 - x0, y1 - y0)))
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    t = np.linspace(0.0, 1.0, max(8, int(length / 4)))
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)

    def sample(dx: float, dy: float) -> np.ndarray:
        cx = np.clip(np.round(xs + dx).astype(int), 0, w - 1)
        cy = np.clip(np.round(ys + dy).astype(int), 0, h - 1)
        return grey[cy, cx].astype(np.float32)

    step = sample(4 * nx, 4 * ny) - sample(-4 * nx, -4 * ny)
    return max(float((step > _EDGE_STEP).mean()), float((step < -_EDGE_STEP).mean()))


# Grey levels across a sheet's edge, and the share of its length that must show them.
_EDGE_STEP, _MIN_EDGE_SHARE = 12.0, 0.8
# Segments this close to the frame's border are the frame's, not a sheet's.
_FRAME_MARGIN_PX = 4


def border_around_face(grey: np.ndarray, box: FaceBox) -> bool:
    """Long straight edges on at least three sides of the face (left, right, above, below),
    each running past the face with one side brighter all along: the edge of a sheet of
    paper or a phone held up to the camera. A person's outline is curved, hair makes
    straight strands of changing contrast, and a room's straight lines seldom frame the face
    on three sides at once."""
    h, w = grey.shape[:2]
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 30, 90)
    length = max(box.width_px, box.height_px)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(0.6 * length),
                            minLineLength=length, maxLineGap=25)
    m = _FRAME_MARGIN_PX
    sides: set[str] = set()
    for x0, y0, x1, y1 in (lines.reshape(-1, 4) if lines is not None else ()):
        if (max(x0, x1) < m or min(x0, x1) > w - 1 - m or max(y0, y1) < m
                or min(y0, y1) > h - 1 - m):
            continue
        side = None
        if abs(x1 - x0) < 0.2 * abs(y1 - y0):  # near vertical
            if min(y0, y1) < box.bottom and max(y0, y1) > box.top:
                side = ("left" if max(x0, x1) < box.left
                        else "right" if min(x0, x1) > box.right else None)
        elif abs(y1 - y0) < 0.2 * abs(x1 - x0):  # near horizontal
            if min(x0, x1) < box.right and max(x0, x1) > box.left:
                side = ("above" if max(y0, y1) < box.top
                        else "below" if min(y0, y1) > box.bottom else None)
        if side and side not in sides and (
                _edge_contrast(grey, x0, y0, x1, y1) >= _MIN_EDGE_SHARE):
            sides.add(side)
    return len(sides) >= 3
