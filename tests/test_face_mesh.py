"""Dense landmarks (face mesh and eyelid contours) placed on real faces: where dlib's points
are, following the head when it turns, and the same for an eye and its mirror image."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from verifier.face import mesh
from verifier.face.detection import detect_faces
from verifier.models import LoadedModels
from verifier.photo.expression import eye_openness, iris_to_skin_lightness
from verifier.synthetic import photo_variants as pv
from verifier.synthetic.frames import framed_face


def _fit(rgb: np.ndarray, models: LoadedModels) -> tuple[mesh.DenseLandmarks, float]:
    (face,) = detect_faces(rgb, models)
    dense = mesh.fit_dense_landmarks(rgb, face, models["face_mesh"], models["eye_contours"])
    return dense, face.inter_eye_distance_px


def test_mesh_eye_corners_lie_on_dlibs_eye_corners(models: LoadedModels) -> None:
    rgb = framed_face(0.5)
    (face,) = detect_faces(rgb, models)
    dense = mesh.fit_dense_landmarks(rgb, face, models["face_mesh"], models["eye_contours"])
    assert dense.face_presence > 0.9
    ied = face.inter_eye_distance_px
    corners = dense.mesh_px[[mesh.LEFT_EYE_OUTER, mesh.LEFT_EYE_INNER, mesh.RIGHT_EYE_INNER,
                             mesh.RIGHT_EYE_OUTER]]
    dlib_corners = sorted(face.landmarks_px[:4])  # the four eye corners, left to right
    for ours, theirs in zip(sorted(map(tuple, corners)), dlib_corners):
        assert math.dist(ours, theirs) < 0.12 * ied
    # Eyelid contours close around the eye centres.
    for contour, centre in ((dense.left_eye_contour_px, face.left_eye_px),
                            (dense.right_eye_contour_px, face.right_eye_px)):
        assert math.dist(tuple(contour.mean(axis=0)), centre) < 0.1 * ied


@pytest.mark.parametrize("degrees", [-10, 10])
def test_points_follow_a_tilted_head(degrees: float, models: LoadedModels) -> None:
    rgb = framed_face(0.5)
    upright, ied = _fit(rgb, models)
    turn = cv2.getRotationMatrix2D((320, 240), degrees, 1.0)
    tilted, _ = _fit(cv2.warpAffine(rgb, turn, (640, 480), borderMode=cv2.BORDER_REPLICATE),
                     models)
    expected = upright.mesh_px @ turn[:, :2].T + turn[:, 2]
    error = np.linalg.norm(tilted.mesh_px - expected, axis=1)
    assert np.median(error) < 0.05 * ied


def test_an_eye_reads_the_same_in_the_mirror_image(models: LoadedModels) -> None:
    rgb = framed_face(0.5)
    dense, _ = _fit(rgb, models)
    mirrored, _ = _fit(np.ascontiguousarray(rgb[:, ::-1]), models)
    # The image-left eye of the mirror image is the image-right eye of the original.
    assert eye_openness(mirrored.left_eye_contour_px) == pytest.approx(
        eye_openness(dense.right_eye_contour_px), abs=0.03)
    assert eye_openness(mirrored.right_eye_contour_px) == pytest.approx(
        eye_openness(dense.left_eye_contour_px), abs=0.03)


def test_the_iris_shows_dark_between_open_lids_and_not_on_shut_ones(models: LoadedModels
                                                                     ) -> None:
    base = pv.astronaut_base()
    for rgb, dark in ((base.rgb, True), (pv.eyes_closed(base), False)):
        dense, _ = _fit(rgb, models)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        for contour, iris in zip((dense.left_eye_contour_px, dense.right_eye_contour_px),
                                 dense.irises_px):
            ratio = iris_to_skin_lightness(grey, contour, iris)
            assert (ratio < 0.6) if dark else (ratio > 0.85), ratio
