"""Rules over what one counter session delivered (the consistency issue adds the rules that
compare documents, application and biometrics)."""

from __future__ import annotations

from verifier.cases.store import CaseContents
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Severity


def no_live_capture(case: CaseContents) -> list[Flag]:
    if case.capture_sequence is not None:
        return []
    frames = sum(1 for m in case.messages if m.kind == "frame")
    return [Flag(
        rule_id="photo.no_live_capture", severity=Severity.FAIL,
        message_id="Tidak ada foto langsung yang memenuhi syarat; ulangi pengambilan foto",
        message_en="No live frame met the photo requirements; capture the photo again",
        evidence={"frames_received": str(frames)})]


def rejected_items(case: CaseContents) -> list[Flag]:
    return [Flag(
        rule_id="input.item_rejected", severity=Severity.REVIEW,
        message_id=f"Berkas {m.kind} (urutan {m.sequence}) ditolak: {m.error.get('message', '')}",
        message_en=f"{m.kind} item (sequence {m.sequence}) was rejected: {m.error.get('message', '')}",
        evidence={"sequence": str(m.sequence), "kind": m.kind,
                  "reason": str(m.error.get("reason", ""))})
        for m in case.messages if m.error is not None and m.kind != "frame"]


def ktp_missing(case: CaseContents) -> list[Flag]:
    if any(m.kind == "document" and m.subtype == "KTP" and m.error is None
           for m in case.messages):
        return []
    return [Flag(rule_id="documents.ktp_missing", severity=Severity.REVIEW,
                 message_id="KTP belum dipindai", message_en="No readable KTP was scanned")]


RULES = (no_live_capture, rejected_items, ktp_missing)


def analyse(ctx: CaseContext) -> CaseFindings:
    return CaseFindings(flags=tuple(flag for rule in RULES for flag in rule(ctx.contents)))
