"""Case rules over the fingerprints of one session: the same finger pressed for two slots, a
declared exception that was captured anyway, and captures that match an earlier record
(1:1 against the applicant's own for a renewal, 1:N over everyone else).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from verifier.cases.store import CaseContents
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Match, Severity
from verifier.fingerprint.analysis import MODEL_NAME
from verifier.fingerprint.extraction import MinutiaeExtractor
from verifier.fingerprint.gallery import finger_label, gallery_from_store
from verifier.fingerprint.matching import MODEL_NAME as MATCHER_NAME
from verifier.fingerprint.matching import (SCORE_UNIT, FingerComparison, compare_minutiae,
                                           decide)
from verifier.fingerprint.template import template_from_text
from verifier.gallery import Enrolment

FINGER_NAMES = {1: "right thumb", 2: "right index", 3: "right middle", 4: "right ring",
                5: "right little", 6: "left thumb", 7: "left index", 8: "left middle",
                9: "left ring", 10: "left little"}
_FINGER_NAMES_ID = {1: "ibu jari kanan", 2: "telunjuk kanan", 3: "jari tengah kanan",
                    4: "jari manis kanan", 5: "kelingking kanan", 6: "ibu jari kiri",
                    7: "telunjuk kiri", 8: "jari tengah kiri", 9: "jari manis kiri",
                    10: "kelingking kiri"}


@dataclass(frozen=True)
class SlotCapture:
    position: int
    sequence: int
    nfiq2: int | None
    minutiae: Any  # nbis.Minutiae


def _best_captures(case: CaseContents, extractor: MinutiaeExtractor) -> dict[int, SlotCapture]:
    """Per finger position, the capture with the highest NFIQ 2 (retries are kept)."""
    best: dict[int, tuple[int, int, dict[str, Any]]] = {}
    for m in case.messages:
        record = (m.result or {}).get("record", {})
        if m.kind != "fingerprint" or m.error is not None or not m.subtype or not record:
            continue
        position, score = int(m.subtype), record.get("nfiq2") or 0
        if position not in best or score > best[position][0]:
            best[position] = (score, m.sequence, record)
    return {position: SlotCapture(
        position=position, sequence=sequence, nfiq2=record.get("nfiq2"),
        minutiae=extractor.load_template(template_from_text(record["template_iso19794_2_b64"])))
        for position, (_, sequence, record) in best.items()}


def _exceptions(case: CaseContents) -> dict[int, dict[str, Any]]:
    return {int(m.subtype): m.result or {} for m in case.messages
            if m.kind == "fingerprint_exception" and m.subtype}


def exception_conflicts(captures: dict[int, SlotCapture],
                        exceptions: dict[int, dict[str, Any]]) -> list[Flag]:
    """A finger declared uncapturable and captured all the same. (Declared exceptions and
    failed per-finger checks are flagged by verifier.consistency.biometric_rules.)"""
    flags = []
    for position in sorted(set(exceptions) & set(captures)):
        reason = str(exceptions[position].get("reason", ""))
        flags.append(Flag(
            rule_id="fingerprint.exception_but_captured", severity=Severity.REVIEW,
            message_id=f"{_FINGER_NAMES_ID[position]} dinyatakan pengecualian ({reason}) "
                       "tetapi juga dipindai",
            message_en=f"{FINGER_NAMES[position]} declared an exception ({reason}) but "
                       "also captured",
            evidence={"position": str(position), "reason": reason,
                      "officer_note": str(exceptions[position].get("officer_note", "")),
                      "sequence": str(captures[position].sequence)}))
    return flags


def _match(probe: str, reference: str, comparison: FingerComparison, model: str) -> Match:
    return Match(modality="fingerprint", probe=probe, reference=reference,
                 score=float(comparison.score), score_unit=SCORE_UNIT,
                 threshold=float(comparison.threshold),
                 operating_point=comparison.operating_point, match=comparison.match,
                 model=model)


def analyse(ctx: CaseContext) -> CaseFindings:
    settings = ctx.config.fingerprint
    extractor: MinutiaeExtractor = ctx.models[MODEL_NAME]
    model = f"{MATCHER_NAME}:{ctx.models.describe().get(MODEL_NAME, '')[:12]}"
    captures = _best_captures(ctx.contents, extractor)
    exceptions = _exceptions(ctx.contents)
    flags = exception_conflicts(captures, exceptions)
    if not captures:
        return CaseFindings(flags=tuple(flags))
    matches: list[Match] = []
    # The same finger pressed for two slots.
    for a, b in combinations(sorted(captures), 2):
        comparison = compare_minutiae(captures[a].minutiae, captures[b].minutiae, settings)
        if not comparison.match:
            continue
        matches.append(_match(finger_label(a), finger_label(b), comparison, model))
        flags.append(Flag(
            rule_id="fingerprint.same_finger_two_slots", severity=Severity.FAIL,
            message_id=f"{_FINGER_NAMES_ID[a]} dan {_FINGER_NAMES_ID[b]} adalah jari yang "
                       "sama; ulangi pemindaian kedua jari",
            message_en=f"{FINGER_NAMES[a]} and {FINGER_NAMES[b]} are the same finger; capture "
                       "both again",
            evidence={"positions": f"{a},{b}", "score": str(comparison.score),
                      "threshold": str(comparison.threshold),
                      "operating_point": comparison.operating_point}))
    # Earlier records: 1:1 for the applicant's own (renewal), 1:N over everyone else.
    nik = str(ctx.contents.application.get("nik", ""))
    gallery = gallery_from_store(ctx.store, extractor, exclude_case_id=ctx.contents.case_id)
    if len(gallery):
        for position, capture in sorted(captures.items()):
            probe = finger_label(position)
            for candidate in gallery.search_minutiae(capture.minutiae, top_k=len(gallery)):
                enrolment = candidate.enrolment
                comparison = decide(int(candidate.score), settings)
                own = bool(nik) and enrolment.nik == nik
                same_slot = enrolment.label == probe
                if own and same_slot:
                    matches.append(_match(probe, f"gallery:{enrolment.case_id}", comparison,
                                          model))
                    if not comparison.match:
                        flags.append(_earlier_flag("fingerprint.renewal_mismatch",
                                                   Severity.REVIEW, position, enrolment,
                                                   comparison))
                elif comparison.match:
                    matches.append(_match(probe, f"gallery:{enrolment.case_id}:"
                                                 f"{enrolment.label}", comparison, model))
                    rule = ("fingerprint.matches_other_finger" if own
                            else "fingerprint.matches_other_applicant")
                    flags.append(_earlier_flag(rule, Severity.FAIL, position, enrolment,
                                               comparison))
    return CaseFindings(flags=tuple(flags), matches=tuple(matches))


_EARLIER_MESSAGES = {
    "fingerprint.renewal_mismatch": (
        "{fid} tidak cocok dengan rekaman sebelumnya pemohon ini",
        "{fen} does not match this applicant's earlier record"),
    "fingerprint.matches_other_finger": (
        "{fid} cocok dengan jari lain ({other}) pada rekaman sebelumnya pemohon ini",
        "{fen} matches a different finger ({other}) of this applicant's earlier record"),
    "fingerprint.matches_other_applicant": (
        "{fid} cocok dengan sidik jari pemohon lain (NIK {nik})",
        "{fen} matches another applicant's fingerprint (NIK {nik})"),
}


def _earlier_flag(rule_id: str, severity: Severity, position: int, enrolment: Enrolment,
                  comparison: FingerComparison) -> Flag:
    other = int(enrolment.label.partition(":")[2])
    text_id, text_en = _EARLIER_MESSAGES[rule_id]
    values = {"fid": _FINGER_NAMES_ID[position], "fen": FINGER_NAMES[position],
              "other": FINGER_NAMES[other], "nik": enrolment.nik}
    return Flag(rule_id=rule_id, severity=severity, message_id=text_id.format(**values),
                message_en=text_en.format(**values),
                evidence={"position": str(position), "earlier_case": enrolment.case_id,
                          "earlier_finger": str(other), "earlier_nik": enrolment.nik,
                          "score": str(comparison.score),
                          "threshold": str(comparison.threshold),
                          "operating_point": comparison.operating_point})
