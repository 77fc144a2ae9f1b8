"""Pre-check of one finished photo: the decode gate, then the photo assessment."""

from __future__ import annotations

from verifier.config import Config
from verifier.imaging import decode_image
from verifier.models import LoadedModels
from verifier.photo.assessment import PhotoAssessment, assess_photo


def precheck_photo(data: bytes, models: LoadedModels, config: Config,
                   profile: str = "upload") -> PhotoAssessment:
    return assess_photo(decode_image(data, config.imaging), models, config, profile)
