"""Head pose (yaw, pitch, roll) from dlib's 5 landmarks and a generic 3D face.

Five points (four eye corners and the base of the nose) fix the pose with OpenCV's
solvePnP, but pitch rests on one point off the eye line, so it is the least certain angle:
a person whose nose sits lower than the generic face's reads a few degrees "chin down".
The 68-point model would constrain pitch better; its training data (iBUG 300-W) excludes
commercial use, so it is not used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from verifier.face.detection import DetectedFace

# Generic adult face in millimetres, in dlib's 5-point order. x: towards the image's right,
# y: down, z: away from the camera (so a frontal face has the identity rotation). Origin
# between the inner eye corners; outer corners sit ~12 mm further back, the base of the nose
# ~48 mm below the eye line and ~18 mm nearer the camera (anthropometric means).
_MODEL_MM = np.array([
    (45.0, 0.0, 12.0),    # 0: outer corner of the eye on the image's right
    (16.0, 0.0, 0.0),     # 1: its inner corner
    (-45.0, 0.0, 12.0),   # 2: outer corner of the eye on the image's left
    (-16.0, 0.0, 0.0),    # 3: its inner corner
    (0.0, 48.0, -18.0),   # 4: base of the nose (subnasale)
], dtype=np.float64)


@dataclass(frozen=True)
class HeadPose:
    # Signs: yaw > 0 when the face turns towards the image's right; pitch > 0 when the chin
    # is raised; roll > 0 when the head tilts clockwise in the image.
    yaw_deg: float
    pitch_deg: float
    roll_deg: float


def estimate_head_pose(face: DetectedFace, width_px: int, height_px: int) -> HeadPose | None:
    """Pose of `face`, or None when it has no 5 landmarks or solvePnP finds no solution."""
    if len(face.landmarks_px) != 5:
        return None
    image_pts = np.array(face.landmarks_px, dtype=np.float64)
    # A long focal length (near-orthographic view): where a photo was cropped from its
    # frame is unknown, and a face off the assumed optical axis would read as turned.
    f = 10.0 * float(max(width_px, height_px))
    camera = np.array([[f, 0, width_px / 2.0], [0, f, height_px / 2.0], [0, 0, 1]])
    # Start from a frontal face at a plausible distance so the iterative solver does not
    # fall into the mirrored solution that 5 nearly coplanar points allow.
    distance_mm = f * 61.0 / max(face.inter_eye_distance_px, 1.0)
    centre = image_pts[[1, 3]].mean(axis=0)
    tvec0 = np.array([[(centre[0] - width_px / 2.0) * distance_mm / f],
                      [(centre[1] - height_px / 2.0) * distance_mm / f], [distance_mm]])
    ok, rvec, _ = cv2.solvePnP(_MODEL_MM, image_pts, camera, None, rvec=np.zeros((3, 1)),
                               tvec=tvec0, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    # R = Rz(roll) Ry(yaw) Rx(pitch) in camera axes (x right, y down, z forward).
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -rotation[2, 0]))))
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return HeadPose(yaw_deg=-yaw, pitch_deg=-pitch, roll_deg=roll)
