"""A new fingerprint capture against the other fingers already captured in its session.

Done when the capture arrives rather than at Finish: the officer hears at once that the
applicant pressed a finger already given for another slot (and recaptures while the
applicant is still there), and Finish reuses the stored scores instead of running Bozorth3
over every pair of slots (45 comparisons, the larger share of its time before).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verifier.config import FingerprintConfig
from verifier.fingerprint.matching import compare_minutiae
from verifier.fingerprint.positions import FINGER_NAMES, FINGER_NAMES_ID
from verifier.photo.result import Outcome, RequirementResult

@dataclass(frozen=True)
class EarlierCapture:
    sequence: int
    position: int
    minutiae: Any  # nbis.Minutiae


@dataclass(frozen=True)
class PairScore:
    """Bozorth3 score of this capture against the capture `sequence` (another slot)."""

    sequence: int
    position: int
    score: int

    def to_record(self) -> dict[str, int]:
        return {"sequence": self.sequence, "position": self.position, "score": self.score}

    @staticmethod
    def from_record(record: Any) -> PairScore | None:
        """None for anything that is not a stored pair score (older rows, damage)."""
        if not isinstance(record, dict):
            return None
        values = [record.get(k) for k in ("sequence", "position", "score")]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return None
        return PairScore(*values)


def scores_against_earlier(minutiae: Any, position: int, earlier: Iterable[EarlierCapture],
                           config: FingerprintConfig) -> tuple[PairScore, ...]:
    """Scores against every earlier capture of another slot (a retake of the same slot is
    the same finger by design and is not compared)."""
    return tuple(PairScore(e.sequence, e.position,
                           compare_minutiae(minutiae, e.minutiae, config).score)
                 for e in earlier if e.position != position)


def same_finger_check(position: int, scores: tuple[PairScore, ...],
                      config: FingerprintConfig) -> RequirementResult:
    """FAIL when the capture matches another slot's capture at the operating point."""
    hits = sorted((s for s in scores if s.score >= config.match_threshold),
                  key=lambda s: -s.score)
    best = hits[0] if hits else max(scores, key=lambda s: s.score, default=None)
    value = float(best.score) if best is not None else 0.0
    if not hits:
        return RequirementResult(
            requirement="same_finger", outcome=Outcome.PASS, value=value, unit="bozorth3",
            score=100.0, threshold=float(config.match_threshold),
            message_id="Berbeda dari jari lain yang sudah dipindai",
            message_en="Differs from the other fingers captured")
    other_id = FINGER_NAMES_ID.get(hits[0].position, "jari lain")
    other_en = FINGER_NAMES.get(hits[0].position, "another finger")
    this_id = FINGER_NAMES_ID.get(position, "jari ini")
    this_en = FINGER_NAMES.get(position, "finger")
    return RequirementResult(
        requirement="same_finger", outcome=Outcome.FAIL, value=value, unit="bozorth3",
        score=0.0, threshold=float(config.match_threshold),
        message_id=f"Sidik {this_id} sama dengan {other_id} yang dipindai sebelumnya; "
                   "pastikan jari yang benar lalu pindai ulang",
        message_en=f"This {this_en} print matches the {other_en} captured earlier; check "
                   "which finger is on the scanner and capture again")
