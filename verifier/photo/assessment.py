"""One assessment per image: detection runs once and every requirement reads its result."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.config import FramingConfig
from verifier.face.detection import DetectedFace, detect_faces
from verifier.imaging import DecodedImage
from verifier.models import LoadedModels
from verifier.photo import framing
from verifier.photo.result import RequirementResult


@dataclass(frozen=True)
class PhotoAssessment:
    faces: tuple[DetectedFace, ...]
    # In priority order: the first failing one is what the officer should fix first.
    requirements: tuple[RequirementResult, ...]

    @property
    def ready(self) -> bool:
        return all(r.passed for r in self.requirements)

    @property
    def failing(self) -> tuple[RequirementResult, ...]:
        return tuple(r for r in self.requirements if not r.passed)

    @property
    def main_face(self) -> DetectedFace | None:
        return self.faces[0] if self.faces else None


def assess_photo(image: DecodedImage, models: LoadedModels, config: FramingConfig) -> PhotoAssessment:
    faces = detect_faces(image.rgb, models, config.detector_upsample, config.min_detector_score)
    requirements = (
        framing.single_face(faces),
        framing.face_size(faces, image.height_px, config),
        framing.face_centred(faces, image.width_px, config),
    )
    return PhotoAssessment(faces=faces, requirements=requirements)
