"""Face detection with dlib's HOG detector and 5-point landmarks.

HOG with no upsampling finds faces down to about 80 px wide in ~30 ms at 640x480; each
upsample doubles the image (finds ~40 px faces) and costs about 4x. The CNN detector is far
more robust but takes seconds on a CPU, so it is not used for live frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verifier.models import LoadedModels


def load_shape_predictor(path: Path) -> Any:
    """Registry loader for dlib landmark models. One is shared by every analysis thread: its
    call releases the GIL but keeps no state in the object (concurrent landmarks equal serial
    ones, tests/test_concurrency.py). The HOG detector does keep state, so `LoadedModels`
    holds one per thread."""
    import dlib

    return dlib.shape_predictor(str(path))


@dataclass(frozen=True)
class FaceBox:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width_px(self) -> int:
        return self.right - self.left

    @property
    def height_px(self) -> int:
        return self.bottom - self.top

    @property
    def center_x_px(self) -> float:
        return (self.left + self.right) / 2.0


@dataclass(frozen=True)
class DetectedFace:
    box: FaceBox
    detector_score: float  # HOG SVM margin: > 0 detected; higher is more face-like
    left_eye_px: tuple[float, float]  # the eye on the image's left side
    right_eye_px: tuple[float, float]
    nose_px: tuple[float, float]
    # dlib's 5 points in its order: outer and inner corner of one eye, inner and outer
    # corner of the other, the base of the nose.
    landmarks_px: tuple[tuple[float, float], ...] = ()

    @property
    def inter_eye_distance_px(self) -> float:
        return math.dist(self.left_eye_px, self.right_eye_px)

    @property
    def eye_mid_px(self) -> tuple[float, float]:
        return ((self.left_eye_px[0] + self.right_eye_px[0]) / 2,
                (self.left_eye_px[1] + self.right_eye_px[1]) / 2)

    @property
    def roll_deg(self) -> float:
        dx = self.right_eye_px[0] - self.left_eye_px[0]
        dy = self.right_eye_px[1] - self.left_eye_px[1]
        return math.degrees(math.atan2(dy, dx))


def transformed(face: DetectedFace, affine: np.ndarray) -> DetectedFace:
    """`face` found in a warped copy of an image, in the original image's coordinates;
    `affine` (2x3) maps the warped copy back to the original."""
    def pt(p: tuple[float, float]) -> tuple[float, float]:
        x, y = affine @ np.array([p[0], p[1], 1.0])
        return (float(x), float(y))

    b = face.box
    corners = [pt(c) for c in ((b.left, b.top), (b.right, b.top), (b.left, b.bottom),
                               (b.right, b.bottom))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    left_eye, right_eye = sorted((pt(face.left_eye_px), pt(face.right_eye_px)))
    return DetectedFace(
        box=FaceBox(left=round(min(xs)), top=round(min(ys)), right=round(max(xs)),
                    bottom=round(max(ys))),
        detector_score=face.detector_score, left_eye_px=left_eye, right_eye_px=right_eye,
        nose_px=pt(face.nose_px), landmarks_px=tuple(pt(p) for p in face.landmarks_px))


def scaled(face: DetectedFace, factor: float) -> DetectedFace:
    """`face` in the coordinates of the image scaled by `factor` (detection on a reduced
    copy, results on the original)."""
    return transformed(face, np.array([[factor, 0.0, 0.0], [0.0, factor, 0.0]]))


def detect_faces(rgb: np.ndarray, models: LoadedModels, upsample: int = 0,
                 min_score: float = 0.0) -> tuple[DetectedFace, ...]:
    """All faces in an RGB image whose detector score reaches `min_score`, largest first."""
    rects, scores, _ = models.face_detector.run(rgb, upsample, min_score)
    faces = []
    height, width = rgb.shape[:2]
    for rect, score in zip(rects, scores):
        shape = models.landmarks_5(rgb, rect)
        pts = [(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]
        # dlib's 5-point order: 0-1 corners of one eye, 2-3 of the other, 4 below the nose.
        eye_a = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
        eye_b = ((pts[2][0] + pts[3][0]) / 2, (pts[2][1] + pts[3][1]) / 2)
        left_eye, right_eye = sorted((eye_a, eye_b))
        box = FaceBox(left=max(0, rect.left()), top=max(0, rect.top()),
                      right=min(width, rect.right()), bottom=min(height, rect.bottom()))
        faces.append(DetectedFace(box=box, detector_score=float(score), left_eye_px=left_eye,
                                  right_eye_px=right_eye, nose_px=pts[4],
                                  landmarks_px=tuple(pts)))
    return tuple(sorted(faces, key=lambda f: f.box.width_px * f.box.height_px, reverse=True))
