"""What a case needs before it can pass, in one table by kind of applicant.

| needs                 | adult, first | adult, renewal | minor, first | minor, renewal |
|-----------------------|:------------:|:--------------:|:------------:|:--------------:|
| accepted live capture |      x       |       x        |      x       |       x        |
| a readable own KTP    |      x       |       x        |              |                |
| a face on that KTP    |      x       |       x        |              |                |
| ten fingers           |      x       |       x        |      x       |       x        |
| the old passport      |              |       x        |              |       x        |
| minors' documents (*) |              |                |      x       |       x        |

Severities, and why:
- FAIL (the officer must capture or scan again; a person still reviews it): no accepted live
  capture, no KTP or no KTP readable enough to judge (`min_fields_read_share`), no
  fingerprint at all, all ten fingers declared exceptions (a supervisor decides).
- REVIEW: no face found on the KTP (the comparison could not run), a finger neither captured
  at or above the NFIQ 2 gate nor declared an exception, more than `max_exceptions_review`
  exceptions (also how a person would dodge the duplicate search), a renewal without its old
  passport, and the minors' documents.
(*) the birth certificate, both parents' KTPs and their consent: verifier.consistency.
minor_rules checks them with the parents' names, among the document rules.
- INFO: each declared exception within the limit.

A renewal is what the form says (`application_kind`), or any case with an old passport; a
form that does not say is a first application.
"""

from __future__ import annotations

from collections.abc import Callable

from verifier.config import Config
from verifier.consistency import minor_rules
from verifier.consistency.case_evidence import CaseEvidence
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.facts import gather_facts
from verifier.fingerprint.positions import FINGER_NAMES, FINGER_NAMES_ID
from verifier.consistency.verdict import Flag, Severity

ALL_FINGERS = tuple(range(1, 11))
Need = Callable[[CaseEvidence, Config], list[Flag]]


def live_capture(evidence: CaseEvidence, config: Config) -> list[Flag]:
    if evidence.capture is not None:
        return []
    return [Flag(
        rule_id="photo.no_live_capture", severity=Severity.FAIL,
        message_id="Tidak ada foto langsung yang memenuhi syarat; ulangi pengambilan foto",
        message_en="No live frame met the photo requirements; capture the photo again",
        evidence={"frames_received": str(evidence.frames_received)})]


def own_ktp(evidence: CaseEvidence, config: Config) -> list[Flag]:
    ktps = evidence.of_kind("KTP")
    rejected = [r for r in evidence.rejected if r.kind == "document"]
    if not ktps:
        return [Flag(rule_id="documents.ktp_missing", severity=Severity.FAIL,
                     message_id="KTP belum dipindai atau tidak dapat dibuka; pindai KTP",
                     message_en="No KTP was scanned that could be opened; scan the KTP",
                     evidence={"documents_rejected": str(len(rejected))})]
    minimum = config.documents.min_fields_read_share
    shares = [d.read_share or 0.0 for d in ktps]
    if max(shares) >= minimum:
        return []
    return [Flag(rule_id="documents.ktp_unreadable", severity=Severity.FAIL,
                 message_id=(f"KTP tidak terbaca ({max(shares):.0%} kolom, minimal "
                             f"{minimum:.0%}); pindai ulang"),
                 message_en=(f"The KTP could not be read ({max(shares):.0%} of its fields, "
                             f"{minimum:.0%} needed); scan it again"),
                 evidence={"ktp_sequences": ",".join(str(d.sequence) for d in ktps),
                           "fields_read_share": f"{max(shares):.3f}",
                           "min_fields_read_share": str(minimum)})]


def ktp_face(evidence: CaseEvidence, config: Config) -> list[Flag]:
    readable = [d for d in evidence.of_kind("KTP")
                if (d.read_share or 0.0) >= config.documents.min_fields_read_share]
    if not readable or any(d.face is not None for d in readable):
        return []  # no readable KTP is own_ktp's flag
    return [Flag(rule_id="face.no_face_ktp_photo", severity=Severity.REVIEW,
                 message_id="Wajah pada foto KTP tidak ditemukan; bandingkan manual",
                 message_en="No face found on the KTP photo; compare it by eye",
                 evidence={"ktp_sequences": ",".join(str(d.sequence) for d in readable)})]


def ten_fingers(evidence: CaseEvidence, config: Config) -> list[Flag]:
    best = evidence.best_fingers()
    exceptions = evidence.exception_positions()
    if not best and not exceptions:
        return [Flag(rule_id="fingerprint.none_captured", severity=Severity.FAIL,
                     message_id="Tidak ada sidik jari yang direkam; rekam kesepuluh jari",
                     message_en="No fingerprint was captured; capture all ten fingers")]
    flags = []
    gate = config.fingerprint.min_nfiq2
    for position in ALL_FINGERS:
        if position in exceptions:
            continue
        capture = best.get(position)
        if capture is None:
            flags.append(Flag(
                rule_id="fingerprint.finger_missing", severity=Severity.REVIEW,
                message_id=f"{FINGER_NAMES_ID[position]} belum direkam dan tidak dinyatakan "
                           "pengecualian",
                message_en=f"The {FINGER_NAMES[position]} was neither captured nor declared "
                           "an exception",
                evidence={"position": str(position)}))
        elif not capture.gate_passed:
            shown = "?" if capture.nfiq2 is None else str(capture.nfiq2)
            flags.append(Flag(
                rule_id="fingerprint.below_quality_gate", severity=Severity.REVIEW,
                message_id=f"{FINGER_NAMES_ID[position]}: NFIQ 2 terbaik {shown}, minimal "
                           f"{gate}",
                message_en=f"The {FINGER_NAMES[position]}'s best NFIQ 2 is {shown}; at least "
                           f"{gate} is needed",
                evidence={"position": str(position), "sequence": str(capture.sequence),
                          "nfiq2": shown, "min_nfiq2": str(gate)}))
    flags += _exceptions(evidence, config)
    return flags


def _exceptions(evidence: CaseEvidence, config: Config) -> list[Flag]:
    declared = evidence.exception_positions()
    flags = [Flag(rule_id="fingerprint.exception_declared", severity=Severity.INFO,
                  message_id=f"{FINGER_NAMES_ID[p]} dinyatakan tidak dapat direkam: {e.reason}",
                  message_en=f"The {FINGER_NAMES[p]} was declared uncapturable: {e.reason}",
                  evidence={"sequence": str(e.sequence), "position": str(p),
                            "reason": e.reason, "officer_note": e.officer_note})
             for p, e in sorted(declared.items())]
    limit = config.fingerprint.max_exceptions_review
    evidence_all = {"exceptions": str(len(declared)), "positions": ",".join(
        str(p) for p in sorted(declared)), "max_exceptions_review": str(limit)}
    if len(declared) >= len(ALL_FINGERS):
        flags.append(Flag(
            rule_id="fingerprint.all_exceptions", severity=Severity.FAIL,
            message_id="Kesepuluh jari dinyatakan pengecualian; perlu keputusan supervisor",
            message_en="All ten fingers were declared exceptions; a supervisor must decide",
            evidence=evidence_all))
    elif len(declared) > limit:
        flags.append(Flag(
            rule_id="fingerprint.many_exceptions", severity=Severity.REVIEW,
            message_id=f"{len(declared)} jari dinyatakan pengecualian (lebih dari {limit})",
            message_en=f"{len(declared)} fingers were declared exceptions (more than {limit})",
            evidence=evidence_all))
    return flags


def old_passport(evidence: CaseEvidence, config: Config) -> list[Flag]:
    if evidence.of_kind("OLD_PASSPORT"):
        return []
    return [Flag(rule_id="documents.old_passport_missing", severity=Severity.REVIEW,
                 message_id="Permohonan penggantian tanpa paspor lama; pindai paspor lama",
                 message_en="A renewal without the old passport; scan the old passport")]


_ADULT = (live_capture, own_ktp, ktp_face, ten_fingers)
_MINOR = (live_capture, ten_fingers)
NEEDS: dict[tuple[bool, bool], tuple[Need, ...]] = {
    # (minor, renewal) -> what the case needs
    (False, False): _ADULT,
    (False, True): (*_ADULT, old_passport),
    (True, False): _MINOR,
    (True, True): (*_MINOR, old_passport),
}


def applicant_kind(evidence: CaseEvidence) -> tuple[bool, bool]:
    """(minor, renewal) as far as the case tells."""
    facts = gather_facts(evidence)
    found = minor_rules.birth_date(facts)
    minor = found is not None and minor_rules.age_years(
        found[0], facts.on_date) < minor_rules.ADULT_AGE_YEARS
    renewal = (evidence.application.get("application_kind") == "RENEWAL"
               or bool(evidence.of_kind("OLD_PASSPORT")))
    return minor, renewal


def outstanding(evidence: CaseEvidence, config: Config) -> tuple[Flag, ...]:
    """What the case still lacks before it can pass, most severe first: the needs' findings
    that weigh on the verdict (the counter shows them while the applicant is there)."""
    found = [f for need in NEEDS[applicant_kind(evidence)] for f in need(evidence, config)
             if f.severity >= Severity.REVIEW]
    return tuple(sorted(found, key=lambda f: -f.severity))


def analyse(ctx: CaseContext) -> CaseFindings:
    needs = NEEDS[applicant_kind(ctx.evidence)]
    return CaseFindings(flags=tuple(f for need in needs for f in need(ctx.evidence,
                                                                     ctx.config)))
