"""Rules over what one counter session delivered besides its contents: items the verifier
refused (the decode gate, an unknown document kind or finger position) reach the verdict."""

from __future__ import annotations

from verifier.consistency.case_evidence import CaseEvidence
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Severity


def rejected_items(evidence: CaseEvidence) -> list[Flag]:
    return [Flag(
        rule_id="input.item_rejected", severity=Severity.REVIEW,
        message_id=f"Berkas {r.kind} (urutan {r.sequence}) ditolak: {r.message}",
        message_en=f"{r.kind} item (sequence {r.sequence}) was rejected: {r.message}",
        evidence={"sequence": str(r.sequence), "kind": r.kind, "reason": r.reason})
        for r in evidence.rejected]


def analyse(ctx: CaseContext) -> CaseFindings:
    return CaseFindings(flags=tuple(rejected_items(ctx.evidence)))
