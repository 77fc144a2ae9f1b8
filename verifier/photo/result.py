"""Result types shared by every photo requirement."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from verifier.config import CaptureConfig, FramingConfig, PhotoThresholds


class Outcome(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"  # failure to assess: the image does not allow a measurement


@dataclass(frozen=True)
class RequirementResult:
    requirement: str
    outcome: Outcome
    value: float  # raw measured value, in `unit`
    unit: str
    score: float  # 0-100, 100 best
    threshold: float
    message_id: str  # Indonesian, for the applicant or officer
    message_en: str

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def to_dict(self) -> dict[str, object]:
        return {"requirement": self.requirement, "outcome": self.outcome.value,
                "value": self.value, "unit": self.unit, "score": self.score,
                "threshold": self.threshold, "message_id": self.message_id,
                "message_en": self.message_en}


@dataclass(frozen=True)
class CheckSettings:
    """What a requirement may read besides the analysis: the profile's thresholds, the
    live-framing thresholds and the passport crop geometry."""

    thresholds: PhotoThresholds
    framing: FramingConfig
    capture: CaptureConfig


def score_at_least(value: float, threshold: float) -> float:
    """0-100 score for a 'value must reach threshold' requirement: 50 at the threshold."""
    if threshold <= 0:
        return 100.0
    return float(max(0.0, min(100.0, 50.0 * value / threshold)))


def score_at_most(value: float, threshold: float) -> float:
    """0-100 score for a 'value must stay below threshold' requirement: 50 at the threshold."""
    if threshold <= 0:
        return 100.0 if value <= 0 else 0.0
    return float(max(0.0, min(100.0, 100.0 - 50.0 * value / threshold)))


def score_in_range(value: float, low: float, high: float) -> float:
    """0-100 score for a 'value must lie in [low, high]' requirement: 100 in the middle,
    50 at either bound, 0 one half-width outside."""
    half = (high - low) / 2.0
    if half <= 0:
        return 100.0 if value == low else 0.0
    return float(max(0.0, min(100.0, 100.0 - 50.0 * abs(value - (low + high) / 2.0) / half)))


def judged(requirement: str, ok: bool, value: float, unit: str, score: float, threshold: float,
           passed: tuple[str, str], failed: tuple[str, str]) -> RequirementResult:
    """A PASS or FAIL result; `passed` and `failed` are (Indonesian, English) messages."""
    message_id, message_en = passed if ok else failed
    return RequirementResult(requirement=requirement, outcome=Outcome.PASS if ok else Outcome.FAIL,
                             value=float(value), unit=unit, score=float(score),
                             threshold=float(threshold), message_id=message_id,
                             message_en=message_en)


def unknown(requirement: str, unit: str, threshold: float,
            why: tuple[str, str] = ("Tidak dapat dinilai tanpa tepat satu wajah",
                                    "Cannot be assessed without exactly one face")
            ) -> RequirementResult:
    """Failure to assess: the image does not allow this measurement."""
    return RequirementResult(requirement=requirement, outcome=Outcome.UNKNOWN, value=0.0,
                             unit=unit, score=0.0, threshold=float(threshold),
                             message_id=why[0], message_en=why[1])
