"""Case rules over the fingerprints of one session: prints no trusted device signed (or whose
signed record contradicts them), the same finger pressed for two slots, a declared exception
that was captured anyway, and captures that match an earlier record (1:1 against the
applicant's own for a renewal, 1:N over everyone else, the same finger position only).
Missing fingers and the quality gate are completeness rules.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from verifier.consistency.case_evidence import CaseEvidence, FingerCapture
from verifier.consistency.context import CaseContext, CaseFindings, Galleries
from verifier.fingerprint.positions import FINGER_NAMES, FINGER_NAMES_ID
from verifier.consistency.verdict import Flag, Match, Severity
from verifier.config import FingerprintConfig
from verifier.fingerprint.analysis import MODEL_NAME
from verifier.fingerprint.provenance import Attribution
from verifier.fingerprint.matching import MODEL_NAME as MATCHER_NAME
from verifier.fingerprint.matching import (SCORE_UNIT, FingerComparison, compare_minutiae,
                                           decide)


def finger_label(position: int) -> str:
    return f"finger:{position}"


def exception_conflicts(evidence: CaseEvidence, captures: dict[int, FingerCapture]
                        ) -> list[Flag]:
    """A finger declared uncapturable and captured all the same."""
    flags = []
    exceptions = evidence.exception_positions()
    for position in sorted(set(exceptions) & set(captures)):
        e = exceptions[position]
        flags.append(Flag(
            rule_id="fingerprint.exception_but_captured", severity=Severity.REVIEW,
            message_id=f"{FINGER_NAMES_ID[position]} dinyatakan pengecualian ({e.reason}) "
                       "tetapi juga dipindai",
            message_en=f"The {FINGER_NAMES[position]} was declared an exception ({e.reason}) "
                       "but also captured",
            evidence={"position": str(position), "reason": e.reason,
                      "officer_note": e.officer_note,
                      "sequence": str(captures[position].sequence)}))
    return flags


def provenance_flags(evidence: CaseEvidence, settings: FingerprintConfig) -> list[Flag]:
    """Every capture (retries included) whose signed device record contradicts it fails the
    case; one no trusted device signed sends it to review unless attestation is not required
    (see verifier.fingerprint.provenance)."""
    found: dict[Attribution, list[FingerCapture]] = {}
    for f in evidence.fingerprints:
        if f.provenance is not None and f.provenance.attribution is not Attribution.ATTRIBUTED:
            found.setdefault(f.provenance.attribution, []).append(f)
    flags = []
    if forged := found.get(Attribution.FORGED):
        flags.append(Flag(
            rule_id="fingerprint.forged_record", severity=Severity.FAIL,
            message_id="Rekaman perangkat sidik jari tidak cocok dengan sidik jari yang "
                       "dikirim (diubah atau ditukar); periksa stasiun",
            message_en="A fingerprint's signed device record contradicts the print sent "
                       "(altered or swapped); check the station",
            evidence=_provenance_evidence(forged)))
    if settings.require_device_attestation and (
            unattributed := found.get(Attribution.UNATTRIBUTED)):
        flags.append(Flag(
            rule_id="fingerprint.unattributed", severity=Severity.REVIEW,
            message_id="Sidik jari tanpa tanda tangan perangkat terpercaya; pastikan "
                       "pemindai yang dipakai",
            message_en="Fingerprints not signed by a trusted scanner; check which scanner "
                       "was used",
            evidence=_provenance_evidence(unattributed)))
    return flags


def _provenance_evidence(captures: list[FingerCapture]) -> dict[str, str]:
    first = captures[0].provenance
    assert first is not None
    return {"sequences": ",".join(str(f.sequence) for f in captures),
            "positions": ",".join(str(f.position) for f in captures),
            "reasons": ",".join(sorted({f.provenance.reason for f in captures
                                        if f.provenance is not None})),
            "detail": first.detail}


def _match(probe: str, reference: str, comparison: FingerComparison, model: str) -> Match:
    return Match(modality="fingerprint", probe=probe, reference=reference,
                 score=float(comparison.score), score_unit=SCORE_UNIT,
                 threshold=float(comparison.threshold),
                 operating_point=comparison.operating_point, match=comparison.match,
                 model=model)


def _comparison_evidence(comparison: FingerComparison) -> dict[str, str]:
    return {"score": str(comparison.score), "threshold": str(comparison.threshold),
            "operating_point": comparison.operating_point}


def _pair_score(a: FingerCapture, b: FingerCapture) -> int | None:
    """The score stored when the later of the two arrived, if it was computed then."""
    for probe, other in ((a, b), (b, a)):
        for p in probe.pair_scores:
            if p.sequence == other.sequence:
                return p.score
    return None


def _same_finger_twice(captures: dict[int, FingerCapture], minutiae: dict[int, Any],
                       settings: FingerprintConfig, model: str
                       ) -> tuple[list[Flag], list[Match]]:
    flags, matches = [], []
    for a, b in combinations(sorted(minutiae), 2):
        stored = _pair_score(captures[a], captures[b])
        # Two captures analysed at the same moment did not see each other: compare now.
        comparison = (compare_minutiae(minutiae[a], minutiae[b], settings) if stored is None
                      else decide(stored, settings))
        if not comparison.match:
            continue
        matches.append(_match(finger_label(a), finger_label(b), comparison, model))
        flags.append(Flag(
            rule_id="fingerprint.same_finger_two_slots", severity=Severity.FAIL,
            message_id=f"{FINGER_NAMES_ID[a]} dan {FINGER_NAMES_ID[b]} adalah jari yang "
                       "sama; ulangi pemindaian kedua jari",
            message_en=f"The {FINGER_NAMES[a]} and the {FINGER_NAMES[b]} are the same finger; "
                       "capture both again",
            evidence={"positions": f"{a},{b}"} | _comparison_evidence(comparison)))
    return flags, matches


def _earlier_records(ctx: CaseContext, galleries: Galleries, captures: dict[int, FingerCapture],
                     minutiae: dict[int, Any], model: str) -> tuple[list[Flag], list[Match]]:
    evidence, settings = ctx.evidence, ctx.config.fingerprint
    extractor = ctx.models[MODEL_NAME]
    flags, matches = [], []
    # 1:1 with the applicant's own earlier records (a renewal): every shared position.
    if evidence.nik:
        for case_id, templates in sorted(galleries.fingerprints.templates_of_nik(
                evidence.nik).items()):
            if case_id == evidence.case_id:
                continue
            for position in sorted(set(templates) & set(minutiae)):
                comparison = compare_minutiae(minutiae[position],
                                              extractor.load_template(templates[position]),
                                              settings)
                matches.append(_match(finger_label(position), f"gallery:{case_id}",
                                      comparison, model))
                if not comparison.match:
                    flags.append(Flag(
                        rule_id="fingerprint.renewal_mismatch", severity=Severity.REVIEW,
                        message_id=f"{FINGER_NAMES_ID[position]} tidak cocok dengan rekaman "
                                   "sebelumnya pemohon ini",
                        message_en=f"The {FINGER_NAMES[position]} does not match this "
                                   "applicant's earlier record",
                        evidence={"position": str(position), "other_case": case_id}
                        | _comparison_evidence(comparison)))
    # 1:N over everyone else, through the gallery's index.
    probes = {p: c.template for p, c in captures.items() if c.template is not None}
    for hit in galleries.fingerprints.search_case(probes, exclude_case_id=evidence.case_id):
        comparison = decide(int(hit.score), settings)
        if not comparison.match or (evidence.nik
                                    and galleries.same_nik(hit.nik_hash, evidence.nik)):
            continue
        matches.append(_match(finger_label(hit.position), f"gallery:{hit.case_id}", comparison,
                              model))
        flags.append(Flag(
            rule_id="fingerprint.matches_other_applicant", severity=Severity.FAIL,
            message_id=f"{FINGER_NAMES_ID[hit.position]} cocok dengan sidik jari pemohon lain; "
                       "periksa di halaman tinjauan",
            message_en=f"The {FINGER_NAMES[hit.position]} matches another applicant's "
                       "fingerprint; check it on the review page",
            evidence={"position": str(hit.position), "other_case": hit.case_id}
            | _comparison_evidence(comparison)))
    return flags, matches


def analyse(ctx: CaseContext) -> CaseFindings:
    settings = ctx.config.fingerprint
    extractor = ctx.models[MODEL_NAME]
    model = f"{MATCHER_NAME}:{ctx.models.describe().get(MODEL_NAME, '')[:12]}"
    captures = {p: c for p, c in ctx.evidence.best_fingers().items() if c.template is not None}
    flags = provenance_flags(ctx.evidence, settings) + exception_conflicts(ctx.evidence, captures)
    if not captures:
        return CaseFindings(flags=tuple(flags))
    minutiae = {p: extractor.load_template(c.template) for p, c in captures.items()}
    twice_flags, matches = _same_finger_twice(captures, minutiae, settings, model)
    flags += twice_flags
    if ctx.galleries is not None:
        earlier_flags, earlier_matches = _earlier_records(ctx, ctx.galleries, captures,
                                                          minutiae, model)
        flags += earlier_flags
        matches += earlier_matches
    return CaseFindings(flags=tuple(flags), matches=tuple(matches))
