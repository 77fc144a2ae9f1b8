"""What analysing one document or fingerprint image produces (the counter session stores it
and the servicer sends it back as an ItemResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifier.photo.result import RequirementResult


@dataclass(frozen=True)
class ReadField:
    """One field read from a document."""

    name: str
    value: str  # normalised (ISO dates, upper-case names, snapped enumerations)
    raw_text: str
    confidence: float  # 0-1
    # What changed the reading into `value`, beyond normalising its form: "" when the value is
    # as read; "gazetteer", "vocabulary:<list>" or "check digits" when a closed list or the
    # MRZ's check digits chose it, so officers and auditors know the reading was corrected.
    corrected_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "raw_text": self.raw_text,
                "confidence": self.confidence, "corrected_by": self.corrected_by}


@dataclass(frozen=True)
class ItemAnalysis:
    checks: tuple[RequirementResult, ...]
    summary: str
    fields: tuple[ReadField, ...] = ()
    # Anything else the case rules need later (templates, rectified-crop boxes, scores);
    # JSON-serialisable, stored with the message.
    record: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "checks": [c.to_dict() for c in self.checks],
                "fields": [f.to_dict() for f in self.fields], "record": self.record}
