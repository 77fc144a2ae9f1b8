"""A fingerprint image in a counter session -> its analysis: resolution, NFIQ 2 and the
likely cause of a low score as checks; the ISO/IEC 19794-2 template in `record`, so that the
case can keep the template instead of the image."""

from __future__ import annotations

from typing import Any

from verifier.config import Config, FingerprintConfig
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.analysis import MODEL_NAME, analyse_grey
from verifier.fingerprint.extraction import FINGERPRINT_PPI
from verifier.fingerprint.quality import FingerprintQuality
from verifier.fingerprint.template import template_from_text, template_to_text
from verifier.imaging import DecodedImage
from verifier.item_analysis import ItemAnalysis
from verifier.models import LoadedModels
from verifier.photo.result import Outcome, RequirementResult, score_at_least


def _resolution_check(ppi: int, config: FingerprintConfig) -> RequirementResult:
    ok = config.min_ppi <= ppi <= config.max_ppi
    return RequirementResult(
        requirement="resolution", outcome=Outcome.PASS if ok else Outcome.FAIL,
        value=float(ppi), unit="ppi", score=100.0 if ok else 0.0,
        threshold=float(config.min_ppi),
        message_id="Resolusi pemindai sesuai" if ok else
        f"Resolusi pemindai {ppi} ppi; harus {config.min_ppi}-{config.max_ppi} ppi",
        message_en="Scanner resolution is right" if ok else
        f"Scanner resolution is {ppi} ppi; {config.min_ppi}-{config.max_ppi} ppi required")


def quality_checks(quality: FingerprintQuality, config: FingerprintConfig
                   ) -> tuple[RequirementResult, RequirementResult]:
    """The NFIQ 2 gate and the likely cause, as the station shows them live."""
    ok = quality.passed
    shown = "tidak dapat dinilai" if quality.nfiq2 is None else str(quality.nfiq2)
    shown_en = "could not be assessed" if quality.nfiq2 is None else str(quality.nfiq2)
    nfiq2 = RequirementResult(
        requirement="nfiq2", outcome=Outcome.PASS if ok else Outcome.FAIL,
        value=float(quality.score), unit="nfiq2", score=float(quality.score),
        threshold=float(config.min_nfiq2),
        message_id=f"NFIQ 2 {shown} (minimal {config.min_nfiq2})",
        message_en=f"NFIQ 2 {shown_en} (at least {config.min_nfiq2})")
    message_id, message_en = quality.cause.messages()
    # A visible defect on a print NFIQ 2 accepts is advice, not a failure.
    cause = RequirementResult(
        requirement=f"likely_cause.{quality.cause.value}",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        value=quality.measures.contact_area_mm2, unit="mm2",
        score=score_at_least(quality.measures.contact_area_mm2, config.min_contact_area_mm2),
        threshold=config.min_contact_area_mm2, message_id=message_id, message_en=message_en)
    return nfiq2, cause


def analyse_fingerprint(image: DecodedImage, position: int, ppi: int, models: LoadedModels,
                        config: Config) -> ItemAnalysis:
    settings = config.fingerprint
    resolution = _resolution_check(ppi, settings)
    if resolution.outcome is Outcome.FAIL:
        return ItemAnalysis(checks=(resolution,), summary=(
            f"finger {position}: {ppi} ppi is outside {settings.min_ppi}-{settings.max_ppi}"))
    try:
        analysis = analyse_grey(image.grey(), ppi, models[MODEL_NAME], settings)
    except InvalidInput as exc:
        # NBIS refused an image the decode gate passed: a failure to assess, kept as a
        # result (the officer recaptures) rather than an error that ends the message.
        return ItemAnalysis(checks=(resolution, RequirementResult(
            requirement="minutiae", outcome=Outcome.UNKNOWN, value=0.0, unit="minutiae",
            score=0.0, threshold=0.0, message_id="Sidik jari tidak dapat diproses; ulangi",
            message_en=f"Fingerprint could not be processed; capture again ({exc.message})")),
            summary=f"finger {position}: not processed")
    extraction, quality = analysis.extraction, analysis.quality
    record: dict[str, Any] = {
        "position": position, "ppi": ppi,
        # NBIS writes a record without minutiae that it cannot read back: keep none.
        "template_iso19794_2_b64": template_to_text(extraction.minutiae.to_iso_19794_2_2005())
        if extraction.minutiae_count else None,
        "minutiae_count": extraction.minutiae_count, "nfiq2": extraction.nfiq2,
        "likely_cause": quality.cause.value, "measures": quality.measures.to_dict(),
        "resampled_from_ppi": ppi if ppi != FINGERPRINT_PPI else None,
    }
    shown = "?" if extraction.nfiq2 is None else str(extraction.nfiq2)
    return ItemAnalysis(
        checks=(resolution, *quality_checks(quality, settings)),
        summary=(f"finger {position}: NFIQ 2 {shown}, {extraction.minutiae_count} minutiae, "
                 f"{quality.cause.value.replace('_', ' ')}"),
        record=record)


def finger_capture_template(analysis: ItemAnalysis) -> bytes | None:
    """The ISO/IEC 19794-2 template an analysis holds; None when no minutiae were read."""
    text = analysis.record.get("template_iso19794_2_b64")
    return template_from_text(text) if text else None
