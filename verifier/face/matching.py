"""1:1 face decisions at a calibrated operating point.

The score is 1 - Euclidean distance between embeddings (higher is more alike, as every
score in a verdict is); a pair matches when its score reaches 1 - the calibrated distance. The
threshold is the one measured for the comparison kind (card against live, passport against
live, upload against live, plain), or the one for any comparison where that kind was not
measured. Each decision names the model file (sha256 prefix), the operating point, the
comparison kind whose threshold decided and the threshold, so that an auditor can tell which
thresholds decided a case after they have been recalibrated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lebong_contract.errors import ModelIntegrityError
from verifier.face.calibration import Calibration, load_calibration
from verifier.face.embedders import DLIB_RESNET, EmbeddingSpec, score_unit
from verifier.face.embedding import embedding_distance
from verifier.config import FaceConfig
from verifier.models import LoadedModels

SCORE_UNIT = score_unit(DLIB_RESNET)  # the default embedder's


@dataclass(frozen=True)
class FaceMatcher:
    """Thresholds checked against the loaded model, ready to decide pairs."""

    calibration: Calibration
    model_label: str  # "face_recognition_resnet@55533b28a958"
    score_unit: str = SCORE_UNIT

    def decide(self, a: np.ndarray, b: np.ndarray, operating_point: str,
               comparison: str | None = None) -> FaceDecision:
        if a.shape != b.shape:
            raise ValueError(f"face embeddings of shapes {a.shape} and {b.shape} come from "
                             "different models and cannot be compared")
        return self.decide_distance(embedding_distance(a, b), operating_point, comparison)

    def decide_distance(self, distance: float, operating_point: str,
                        comparison: str | None = None) -> FaceDecision:
        point = self.calibration.point(operating_point, comparison)
        return FaceDecision(distance=distance, score=1.0 - distance,
                            threshold=1.0 - point.distance, operating_point=point.name,
                            match=distance <= point.distance, model=self.model_label,
                            comparison=point.comparison, score_unit=self.score_unit)


@dataclass(frozen=True)
class FaceDecision:
    distance: float
    score: float  # 1 - distance
    threshold: float  # on the score scale: match when score >= threshold
    operating_point: str
    match: bool
    model: str
    comparison: str = "any"  # the comparison kind whose threshold decided
    score_unit: str = SCORE_UNIT

    def to_dict(self) -> dict[str, Any]:
        return {"distance": round(self.distance, 4), "score": round(self.score, 4),
                "threshold": round(self.threshold, 4), "operating_point": self.operating_point,
                "comparison": self.comparison, "match": self.match, "model": self.model}


def face_matcher(models: LoadedModels, config: FaceConfig) -> FaceMatcher:
    """The matcher for the configured embedder; refuses thresholds measured on another
    model file or with another flip setting, an embedder the registry declares wrongly, and
    operating points that were never calibrated."""
    name = config.embedder
    calibration = load_calibration(config.thresholds_path)
    try:
        entry = models.verified[name].entry
    except KeyError:
        raise ModelIntegrityError(f"face embedder {name} is not in the model registry") from None
    if name != DLIB_RESNET:
        EmbeddingSpec.parse(name, entry.embedding)
    if calibration.model_sha256 != entry.sha256:
        raise ModelIntegrityError(
            f"face thresholds in {config.thresholds_path} were measured on model file "
            f"{calibration.model_sha256[:12]} ({calibration.model}), but the configured "
            f"embedder {name} is {entry.sha256[:12]}; recalibrate with `verifier "
            f"calibrate-faces --embedder {name}`",
            metadata={"thresholds": str(config.thresholds_path)})
    if calibration.flip_tta != config.flip_tta:
        raise ModelIntegrityError(
            f"face thresholds in {config.thresholds_path} were measured with flip_tta = "
            f"{str(calibration.flip_tta).lower()}, but [face] flip_tta is "
            f"{str(config.flip_tta).lower()}; recalibrate or change the setting",
            metadata={"thresholds": str(config.thresholds_path)})
    for point in (config.operating_point, config.gallery_operating_point):
        calibration.point(point)
    return FaceMatcher(calibration=calibration, model_label=f"{name}@{entry.sha256[:12]}",
                       score_unit=score_unit(name))
