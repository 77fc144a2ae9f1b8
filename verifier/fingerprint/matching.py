"""Bozorth3 comparison of two minutiae templates, and the decision at the configured
operating point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.config import FingerprintConfig

SCORE_UNIT = "bozorth3"
MODEL_NAME = "nbis-bozorth3"


@dataclass(frozen=True)
class FingerComparison:
    score: int  # Bozorth3: roughly the number of compatible minutia pairs; 0 for no overlap
    threshold: int
    operating_point: str
    match: bool


def decide(score: int, config: FingerprintConfig) -> FingerComparison:
    return FingerComparison(score=score, threshold=config.match_threshold,
                            operating_point=config.operating_point,
                            match=score >= config.match_threshold)


def compare_minutiae(a: Any, b: Any, config: FingerprintConfig) -> FingerComparison:
    """`a`, `b`: nbis.Minutiae (Bozorth3 is symmetric)."""
    return decide(int(a.compare(b)), config)
