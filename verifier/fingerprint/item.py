"""A fingerprint image in a counter session -> its analysis."""

from __future__ import annotations

from verifier.config import Config
from verifier.imaging import DecodedImage
from verifier.item_analysis import ItemAnalysis
from verifier.models import LoadedModels
from verifier.photo.result import Outcome, RequirementResult, score_at_most

# NFIQ 2 and minutiae extraction assume 500 ppi; other resolutions must be resampled first.
FINGERPRINT_PPI = 500
FINGERPRINT_PPI_TOLERANCE = 0.05


def analyse_fingerprint(image: DecodedImage, position: int, ppi: int, models: LoadedModels,
                        config: Config) -> ItemAnalysis:
    deviation = abs(ppi - FINGERPRINT_PPI) / FINGERPRINT_PPI
    ok = deviation <= FINGERPRINT_PPI_TOLERANCE
    checks = (RequirementResult(
        requirement="resolution", outcome=Outcome.PASS if ok else Outcome.FAIL,
        value=float(ppi), unit="ppi", score=score_at_most(deviation, FINGERPRINT_PPI_TOLERANCE),
        threshold=float(FINGERPRINT_PPI),
        message_id="Resolusi pemindai sesuai" if ok else
        f"Resolusi pemindai {ppi} ppi; harus {FINGERPRINT_PPI} ppi",
        message_en="Scanner resolution is right" if ok else
        f"Scanner resolution is {ppi} ppi; {FINGERPRINT_PPI} ppi required"),)
    return ItemAnalysis(
        checks=checks,
        summary=f"finger {position}: {image.width_px}x{image.height_px} px at {ppi} ppi")
