"""Result types shared by every photo requirement."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
