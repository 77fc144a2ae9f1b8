"""One assessment per image: the face analysis runs once and every requirement of the
profile reads it."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.config import Config, PhotoThresholds
from lebong_contract.errors import InvalidInput
from verifier.face.detection import DetectedFace
from verifier.imaging import DecodedImage
from verifier.models import LoadedModels
from verifier.photo.analysis import PhotoAnalysis, analyse_photo
from verifier.photo.requirements import REQUIREMENTS
from verifier.photo.result import CheckSettings, Outcome, RequirementResult

PROFILES = ("upload", "counter")


@dataclass(frozen=True)
class PhotoAssessment:
    profile: str
    analysis: PhotoAnalysis
    # In priority order: the first failing one is what the officer should fix first.
    requirements: tuple[RequirementResult, ...]

    @property
    def faces(self) -> tuple[DetectedFace, ...]:
        return self.analysis.faces

    @property
    def ready(self) -> bool:
        return all(r.passed for r in self.requirements)

    @property
    def failing(self) -> tuple[RequirementResult, ...]:
        return tuple(r for r in self.requirements if not r.passed)

    @property
    def to_fix(self) -> tuple[RequirementResult, ...]:
        """What to fix, first thing first: outright failures before "cannot assess" (which
        usually follows from the first failure)."""
        failing = self.failing
        return tuple(r for r in failing if r.outcome is Outcome.FAIL) or failing

    @property
    def main_face(self) -> DetectedFace | None:
        return self.analysis.main_face

    @property
    def quality_score(self) -> float:
        """Mean requirement score: ranks frames that all pass."""
        return sum(r.score for r in self.requirements) / max(1, len(self.requirements))

    def to_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "compliant": self.ready,
                "requirements": [r.to_dict() for r in self.requirements]}


def profile_thresholds(config: Config, profile: str) -> PhotoThresholds:
    if profile == "upload":
        return config.photo.upload
    if profile == "counter":
        return config.photo.counter
    raise InvalidInput(f"unknown photo profile {profile!r}; use one of {', '.join(PROFILES)}",
                       metadata={"profile": profile})


def assess_photo(image: DecodedImage, models: LoadedModels, config: Config,
                 profile: str) -> PhotoAssessment:
    """Every requirement of `profile` ("upload": a finished photo file; "counter": a live
    camera frame that the verifier will crop) on one image."""
    thresholds = profile_thresholds(config, profile)
    unknown_names = [n for n in thresholds.requirements if n not in REQUIREMENTS]
    if unknown_names:
        # A configuration mistake of the operator, not of the caller.
        raise ValueError(f"photo profile {profile} lists unknown requirements: "
                         f"{', '.join(unknown_names)}")
    analysis = analyse_photo(image, models, config.framing, config.photo.detection_max_side_px)
    settings = CheckSettings(thresholds=thresholds, framing=config.framing,
                             capture=config.photo.capture)
    results = tuple(REQUIREMENTS[name](analysis, settings) for name in thresholds.requirements)
    return PhotoAssessment(profile=profile, analysis=analysis, requirements=results)
