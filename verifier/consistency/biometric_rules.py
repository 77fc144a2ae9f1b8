"""Biometric results that reach the verdict from the case's messages.

The face and fingerprint analysers flag their own findings (document-photo mismatches,
duplicate identities, slot problems, quality); `verdict.decide` flags any failed comparison
they left unflagged; a session without a photo meeting the requirements is
`photo.no_live_capture`. What remains here is what a reviewer must see although no check
failed."""

from __future__ import annotations

from verifier.cases.store import CaseContents
from verifier.consistency.verdict import Flag, Severity


def fingerprint_exceptions(case: CaseContents) -> list[Flag]:
    """A finger declared uncapturable is legitimate (amputation, injury) but a reviewer
    should see it: it is also how a person would avoid a duplicate search."""
    return [Flag(rule_id="fingerprint.exception_declared", severity=Severity.INFO,
                 message_id=f"Jari posisi {m.subtype} dinyatakan tidak dapat direkam: "
                 f"{(m.result or {}).get('reason', '')}",
                 message_en=f"Finger position {m.subtype} declared uncapturable: "
                 f"{(m.result or {}).get('reason', '')}",
                 evidence={"sequence": str(m.sequence), "position": str(m.subtype),
                           "reason": str((m.result or {}).get("reason", ""))})
            for m in case.messages if m.kind == "fingerprint_exception"]


RULES = (fingerprint_exceptions,)
