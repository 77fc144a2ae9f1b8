"""Everything a finished case is checked for: each analyser returns flags and biometric
matches; together they make the verdict. Each feature adds its analyser to ANALYSERS."""

from __future__ import annotations

import logging

from verifier.consistency import document_rules, session_rules
from verifier.consistency.context import CaseAnalyser, CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Severity, Verdict, decide
from verifier.face import case as face_case
from verifier.fingerprint import slot_checks

log = logging.getLogger(__name__)

ANALYSERS: tuple[CaseAnalyser, ...] = (
    session_rules.analyse,
    document_rules.analyse,
    slot_checks.analyse,
    face_case.analyse,
)


def verdict_for(ctx: CaseContext) -> Verdict:
    flags, matches = [], []
    for analyser in ANALYSERS:
        try:
            found: CaseFindings = analyser(ctx)
        except Exception:  # noqa: BLE001 - one broken analyser must not lose the case
            name = getattr(analyser, "__module__", "?") + "." + getattr(analyser, "__name__", "?")
            log.exception("case analyser %s failed on case %s", name, ctx.contents.case_id)
            flags.append(Flag(
                rule_id="system.analyser_failed", severity=Severity.REVIEW,
                message_id=f"Pemeriksaan {name} gagal dijalankan; periksa manual",
                message_en=f"Check {name} could not run; review by hand",
                evidence={"analyser": name}))
            continue
        flags += found.flags
        matches += found.matches
    return decide(ctx.contents.case_id, flags, tuple(matches))
