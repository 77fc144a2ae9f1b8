"""One fingerprint image -> minutiae, NFIQ 2 and likely cause: the pipeline shared by the
counter session, the CLI commands and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from verifier.config import Config, FingerprintConfig
from lebong_contract.errors import InvalidInput, ModelIntegrityError
from verifier.fingerprint.extraction import (Extraction, MinutiaeExtractor,
                                             load_minutiae_extractor, to_500ppi)
from verifier.fingerprint.quality import FingerprintQuality, assess_quality
from verifier.imaging import decode_image
from verifier.models import read_registry, verify

MODEL_NAME = "nbis"  # registry entry of the NBIS library (mindtct, bozorth3, NFIQ 2)
# mindtct aborts the whole process (stack smashing) on an 8 x 8 image and fails below 8 px;
# nothing under 64 px (3 mm at 500 ppi) is a fingerprint. 2,000 px (10 cm) holds a
# four-finger slap; anything larger is a mistake that would only cost NBIS seconds.
MIN_SIDE_PX_500PPI = 64
MAX_SIDE_PX_500PPI = 2000


@dataclass(frozen=True)
class FingerprintAnalysis:
    extraction: Extraction
    quality: FingerprintQuality


def analyse_grey(grey: np.ndarray, ppi: int, extractor: MinutiaeExtractor,
                 config: FingerprintConfig) -> FingerprintAnalysis:
    """`grey`: uint8 H x W at `ppi` (resampled here to 500 ppi)."""
    if not config.min_ppi <= ppi <= config.max_ppi:
        raise InvalidInput(f"fingerprint resolution {ppi} ppi is outside "
                           f"{config.min_ppi}-{config.max_ppi} ppi", reason="RESOLUTION")
    grey_500 = to_500ppi(grey, ppi)
    height, width = grey_500.shape
    if min(height, width) < MIN_SIDE_PX_500PPI or max(height, width) > MAX_SIDE_PX_500PPI:
        raise InvalidInput(
            f"fingerprint image is {width}x{height} px at 500 ppi; each side must be "
            f"{MIN_SIDE_PX_500PPI}-{MAX_SIDE_PX_500PPI} px", reason="FINGERPRINT_SIZE")
    extraction = extractor.extract(grey_500)
    return FingerprintAnalysis(extraction=extraction,
                               quality=assess_quality(grey_500, extraction.nfiq2, config))


def analyse_file(path: Path, ppi: int, extractor: MinutiaeExtractor,
                 config: Config) -> FingerprintAnalysis:
    """An image file through the decode gate, then `analyse_grey`."""
    image = decode_image(path.read_bytes(), config.imaging)
    return analyse_grey(image.grey(), ppi, extractor, config.fingerprint)


def load_extractor(config: Config) -> MinutiaeExtractor:
    """Only the NBIS entry of the registry, checked against its sha256 (for commands and
    benchmarks that need no face models)."""
    for entry in read_registry(config.models_registry):
        if entry.name == MODEL_NAME:
            return load_minutiae_extractor(verify(entry).file)
    raise ModelIntegrityError(f"model registry {config.models_registry} lacks {MODEL_NAME}")
