"""Every rule a finished case is judged by: each returns flags and biometric matches, which
together make the verdict. The rules read `CaseEvidence` and the galleries, never the store."""

from __future__ import annotations

import logging

from verifier.consistency import (completeness_rules, document_rules, face_rules,
                                  fingerprint_rules, liveness_rules, session_rules)
from verifier.consistency.context import CaseContext, CaseFindings, CaseRule
from verifier.consistency.verdict import Flag, Match, Severity, Verdict, decide

log = logging.getLogger(__name__)

RULES: tuple[CaseRule, ...] = (
    completeness_rules.analyse,
    session_rules.analyse,
    document_rules.analyse,
    fingerprint_rules.analyse,
    face_rules.analyse,
    liveness_rules.analyse,
)


def verdict_for(ctx: CaseContext) -> Verdict:
    flags: list[Flag] = []
    matches: list[Match] = []
    for rule in RULES:
        try:
            found: CaseFindings = rule(ctx)
        except Exception:  # noqa: BLE001 - one broken rule must not lose the case
            name = getattr(rule, "__module__", "?") + "." + getattr(rule, "__name__", "?")
            log.exception("case rule %s failed on case %s", name, ctx.evidence.case_id)
            flags.append(Flag(
                rule_id="system.rule_failed", severity=Severity.REVIEW,
                message_id=f"Pemeriksaan {name} gagal dijalankan; periksa manual",
                message_en=f"Check {name} could not run; review by hand",
                evidence={"rule": name}))
            continue
        flags += found.flags
        matches += found.matches
    return decide(ctx.evidence.case_id, flags, tuple(matches))
