"""A document image in a counter session -> its analysis (the reader fills this in)."""

from __future__ import annotations

from verifier.config import Config
from verifier.imaging import DecodedImage
from verifier.item_analysis import ItemAnalysis
from verifier.models import LoadedModels
from verifier.photo.result import Outcome, RequirementResult


def analyse_document(image: DecodedImage, kind: str, models: LoadedModels,
                     config: Config) -> ItemAnalysis:
    checks = (RequirementResult(
        requirement="decodable", outcome=Outcome.PASS, value=float(image.width_px),
        unit="px wide", score=100.0, threshold=0.0, message_id="Dokumen terbaca",
        message_en="Document image decoded"),)
    return ItemAnalysis(checks=checks,
                        summary=f"{kind}: {image.width_px}x{image.height_px} px received")
