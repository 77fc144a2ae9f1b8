"""Flags and the verdict they add up to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Severity(enum.IntEnum):
    INFO = 1
    REVIEW = 2
    FAIL = 3


class Decision(enum.Enum):
    PASS = "PASS"
    REVIEW = "REVIEW"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Flag:
    rule_id: str
    severity: Severity
    message_id: str
    message_en: str
    evidence: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "severity": self.severity.name,
                "message_id": self.message_id, "message_en": self.message_en,
                "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Flag:
        return cls(rule_id=data["rule_id"], severity=Severity[data["severity"]],
                   message_id=data["message_id"], message_en=data["message_en"],
                   evidence=dict(data.get("evidence", {})))


@dataclass(frozen=True)
class Match:
    """One biometric comparison and the decision taken at a named operating point."""

    modality: str  # "face" | "fingerprint"
    probe: str  # e.g. "live_capture", "finger:2"
    reference: str  # e.g. "ktp_photo", "gallery:<case id>"
    score: float  # higher is more alike
    score_unit: str
    threshold: float
    operating_point: str  # e.g. "FMR=1e-3"
    match: bool
    model: str  # name and sha256 prefix

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Match:
        return cls(**data)


@dataclass(frozen=True)
class Verdict:
    case_id: str
    decision: Decision
    flags: tuple[Flag, ...]  # most severe first
    matches: tuple[Match, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "decision": self.decision.value,
                "flags": [f.to_dict() for f in self.flags],
                "matches": [m.to_dict() for m in self.matches]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(case_id=data["case_id"], decision=Decision(data["decision"]),
                   flags=tuple(Flag.from_dict(f) for f in data["flags"]),
                   matches=tuple(Match.from_dict(m) for m in data.get("matches", [])))


# Evidence keys that name another applicant (their case, their NIK): the review page shows
# them to signed-in reviewers; the counter never receives them.
OTHER_APPLICANT_PREFIX = "other_"


def counter_view(verdict: Verdict) -> Verdict:
    """The verdict as a capture station may see it: rules, severities, messages and this
    applicant's evidence; of a 1:N hit only that it exists (the message says to look on the
    review page), never the other applicant's case or NIK."""
    flags = tuple(replace(f, evidence={k: v for k, v in f.evidence.items()
                                       if not k.startswith(OTHER_APPLICANT_PREFIX)
                                       and not v.startswith("gallery:")})
                  for f in verdict.flags)
    matches = tuple(replace(m, reference="gallery") if m.reference.startswith("gallery:")
                    else m for m in verdict.matches)
    return replace(verdict, flags=flags, matches=matches)


def unexplained_match_flags(flags: list[Flag], matches: tuple[Match, ...]) -> list[Flag]:
    """A flag for each failed comparison with a document that no analyser of that modality
    has flagged itself, so that no failed biometric comparison passes without a person.
    Gallery results are left to their analysers: only they know whether a hit is the
    applicant's own earlier record (a renewal) or someone else's (a duplicate)."""
    flagged = {f.rule_id.split(".")[0] for f in flags if f.severity >= Severity.REVIEW}
    return [Flag(f"{m.modality}.no_match", Severity.REVIEW,
                 f"{m.probe} tidak cocok dengan {m.reference}",
                 f"{m.probe} does not match {m.reference}",
                 {"probe": m.probe, "reference": m.reference, "score": f"{m.score:.4g}",
                  "score_unit": m.score_unit, "threshold": f"{m.threshold:.4g}",
                  "operating_point": m.operating_point, "model": m.model})
            for m in matches if not m.match and not m.reference.startswith("gallery:")
            and m.modality not in flagged]


def decide(case_id: str, flags: list[Flag], matches: tuple[Match, ...] = ()) -> Verdict:
    """FAIL if any flag fails, REVIEW if any needs review, else PASS. A FAIL still goes to the
    review queue: nothing is refused without a person able to override it."""
    flags = flags + unexplained_match_flags(flags, matches)
    ordered = tuple(sorted(flags, key=lambda f: (-f.severity, f.rule_id)))
    worst = ordered[0].severity if ordered else Severity.INFO
    decision = {Severity.FAIL: Decision.FAIL, Severity.REVIEW: Decision.REVIEW}.get(
        worst, Decision.PASS)
    return Verdict(case_id=case_id, decision=decision, flags=ordered, matches=matches)
