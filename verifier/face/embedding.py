"""Face templates: an aligned chip, its embedding and a quality value.

The default embedding is dlib's `dlib_face_recognition_resnet_model_v1` (the model face_recognition
uses): faces of one person lie within a Euclidean distance of about 0.6 on the faces it was
tuned on. Alignment uses the 5-point landmarks, as face_recognition's default ("small") does.
One embedding costs about 100 ms a face on these CPUs; each extra jitter costs as much again.
`[face] embedder` may name another registry model (verifier.face.embedders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verifier.face.detection import DetectedFace
from verifier.face.embedders import DLIB_DIMENSION, DLIB_RESNET, face_embedder
from verifier.models import LoadedModels

MODEL_NAME = DLIB_RESNET  # the default embedder
EMBEDDING_DIM = DLIB_DIMENSION  # the default embedder's; galleries store these


def load_face_encoder(path: Path) -> Any:
    """Registry loader for dlib's face-recognition ResNet. The network keeps each layer's
    output in the object, so concurrent calls would overwrite each other; one is shared only
    because dlib's binding holds the GIL for the whole call (checked by
    tests/test_concurrency.py: a dlib that released it would fail there). The same GIL makes
    embeddings run one at a time, whatever the number of analysis threads."""
    import dlib

    return dlib.face_recognition_model_v1(str(path))


@dataclass(frozen=True)
class FaceQuality:
    """Why a face may be a poor reference; `score` 0-100 is the lower of the two parts."""

    inter_eye_distance_px: float  # in the source image: a proxy for the resolution
    sharpness: float  # variance of the Laplacian of the grey chip
    score: float

    def to_dict(self) -> dict[str, float]:
        return {"inter_eye_distance_px": round(self.inter_eye_distance_px, 1),
                "sharpness": round(self.sharpness, 1), "score": round(self.score, 1)}


# Below ~12 px between the eyes (a 25 px face) identity detail is gone; above ~40 px the
# 150 px chip is no longer upscaled. Chip sharpness measured by bench/faces.py: LFW photos
# 139 at their 5th percentile (median 425); recaptured cards 27 at the 5th (median 89).
_EYE_PX = (12.0, 40.0)
_SHARPNESS = (20.0, 150.0)


def _ramp(value: float, lo: float, hi: float) -> float:
    return 100.0 * min(1.0, max(0.0, (value - lo) / (hi - lo)))


def face_quality(chip: np.ndarray, inter_eye_distance_px: float) -> FaceQuality:
    import cv2

    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    score = min(_ramp(inter_eye_distance_px, *_EYE_PX), _ramp(sharpness, *_SHARPNESS))
    return FaceQuality(inter_eye_distance_px=inter_eye_distance_px, sharpness=sharpness,
                       score=score)


@dataclass(frozen=True)
class FaceTemplate:
    """One face ready to compare: where it was, its aligned chip, embedding and quality."""

    face: DetectedFace
    chip: np.ndarray  # HxWx3 uint8 (150x150 for dlib), aligned (eyes level): the evidence crop
    embedding: np.ndarray  # (dimension,) float32
    quality: FaceQuality
    detector: str  # which detector found it, e.g. "hog", "hog+upsample2", "cnn"


def face_template(rgb: np.ndarray, face: DetectedFace, models: LoadedModels,
                  num_jitters: int = 1, detector: str = "hog", embedder: str = MODEL_NAME,
                  flip_tta: bool = False) -> FaceTemplate:
    """Align, embed and rate one detected face of an RGB image with the registry model
    `embedder` (see verifier.face.embedders).

    `num_jitters` > 1 averages that many randomly jittered copies (dlib's model only):
    slightly more stable embeddings for `num_jitters` times the cost (face_recognition's doc
    says 100x jitter is "100x slower"); 1 is what face_recognition does by default.
    """
    embedded = face_embedder(models, embedder, num_jitters, flip_tta).embed(rgb, face)
    return FaceTemplate(face=face, chip=embedded.chip, embedding=embedded.embedding,
                        quality=face_quality(embedded.chip, face.inter_eye_distance_px),
                        detector=detector)


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings (what the model was trained for)."""
    return float(math.sqrt(float(np.sum((a.astype(np.float64) - b.astype(np.float64)) ** 2))))
