"""1:1 face decisions at a calibrated operating point.

The score is 1 - Euclidean distance between embeddings (higher is more alike, as every
score in a verdict is); a pair matches when its score reaches 1 - the calibrated distance. Each
decision names the model file (sha256 prefix), the operating point and the threshold, so
that an auditor can tell which thresholds decided a case after they have been recalibrated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verifier.errors import ModelIntegrityError
from verifier.face.calibration import Calibration, load_calibration
from verifier.face.embedding import MODEL_NAME, embedding_distance
from verifier.config import FaceConfig
from verifier.models import LoadedModels

SCORE_UNIT = "1-euclidean_distance(dlib_resnet_v1)"


@dataclass(frozen=True)
class FaceMatcher:
    """Thresholds checked against the loaded model, ready to decide pairs."""

    calibration: Calibration
    model_label: str  # "face_recognition_resnet@55533b28a958"

    def decide(self, a: np.ndarray, b: np.ndarray, operating_point: str) -> FaceDecision:
        return self.decide_distance(embedding_distance(a, b), operating_point)

    def decide_distance(self, distance: float, operating_point: str) -> FaceDecision:
        point = self.calibration.point(operating_point)
        return FaceDecision(distance=distance, score=1.0 - distance,
                            threshold=1.0 - point.distance, operating_point=point.name,
                            match=distance <= point.distance, model=self.model_label)


@dataclass(frozen=True)
class FaceDecision:
    distance: float
    score: float  # 1 - distance
    threshold: float  # on the score scale: match when score >= threshold
    operating_point: str
    match: bool
    model: str

    def to_dict(self) -> dict[str, Any]:
        return {"distance": round(self.distance, 4), "score": round(self.score, 4),
                "threshold": round(self.threshold, 4), "operating_point": self.operating_point,
                "match": self.match, "model": self.model}


def face_matcher(models: LoadedModels, config: FaceConfig) -> FaceMatcher:
    """The matcher for the loaded embedding model; refuses thresholds measured on another
    model file, and checks that the configured operating points are calibrated."""
    calibration = load_calibration(config.thresholds_path)
    try:
        sha256 = models.verified[MODEL_NAME].entry.sha256
    except KeyError:
        raise ModelIntegrityError(f"model {MODEL_NAME} is not in the registry") from None
    if calibration.model_sha256 != sha256:
        raise ModelIntegrityError(
            f"face thresholds in {config.thresholds_path} were measured on model file "
            f"{calibration.model_sha256[:12]}, but {MODEL_NAME} is {sha256[:12]}; recalibrate "
            "with bench/faces.py", metadata={"thresholds": str(config.thresholds_path)})
    for name in (config.operating_point, config.gallery_operating_point):
        calibration.point(name)
    return FaceMatcher(calibration=calibration, model_label=f"{MODEL_NAME}@{sha256[:12]}")
