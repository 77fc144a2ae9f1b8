"""Officers' corrections of fields read from documents: which corrections the verifier
accepts (checked as each arrives), and the finding each one leaves on the verdict.

A correction never replaces the reading: the case keeps both (a `DocumentEvidence` holds the
corrected `fields`, its `corrections` and, through them, the `read_fields`), the rules compare
the corrected value and `field_corrected` tells the auditors.

Severity: correcting the NIK, a name or the date of birth is REVIEW. Those are the values the
identity and NIK rules and the duplicate search decide on, and a correction that makes a card
agree with the form is what a second person must check against the scan: an honest misread
costs a reviewer a glance, a correction that hides a different card is what four eyes are
for. Any other field, or a correction that only confirms the reading, is INFO: recorded for
the audit, no change to the verdict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verifier.cases.store import StoredMessage
from verifier.consistency.evidence import flag
from verifier.consistency.facts import CaseFacts
from verifier.consistency.verdict import Flag, Severity
from verifier.documents.akta import AKTA_FIELDS
from verifier.documents.ktp import KTP_FIELDS
from verifier.documents.passport import PASSPORT_FIELDS
from verifier.documents.reader import reader_kind
from verifier.documents.vocabulary import LIFELONG, SEXES
from lebong_contract.errors import InvalidInput

# Fields a correction of which goes to REVIEW (see the module doc); "surname" and
# "given_names" are the old passport's name.
IDENTITY_FIELDS = frozenset({"nik", "nama", "tanggal_lahir", "surname", "given_names"})
# The reader's fields per reader kind; "mrz_check_digits_ok" is computed, not read.
_FIELDS = {"ktp": KTP_FIELDS, "akta": AKTA_FIELDS,
           "passport": tuple(f for f in PASSPORT_FIELDS if f != "mrz_check_digits_ok")}
_DATE_FIELDS = frozenset({"tanggal_lahir", "tanggal_terbit", "expiry_date", "berlaku_hingga"})
MAX_VALUE_CHARS = 200
MAX_NOTE_CHARS = 500


def _refused(message: str, **metadata: str) -> InvalidInput:
    return InvalidInput(message, reason="INVALID_CORRECTION", metadata=metadata)


@dataclass(frozen=True)
class AcceptedCorrection:
    """A correction that passed `check_correction`, with the reading it corrects."""

    document_kind: str  # DocumentKind name: "KTP"
    document_sequence: int
    field: str
    value: str  # normalised like the reader's values (upper case, ISO dates)
    officer_note: str
    read: dict[str, Any] | None  # the stored reading of the field; None: it was not read

    def to_record(self, officer_id: str) -> dict[str, Any]:
        """What the case store keeps (the reading stays in the document's own record)."""
        return {"document_kind": self.document_kind,
                "document_sequence": self.document_sequence, "field": self.field,
                "value": self.value, "officer_note": self.officer_note,
                "officer_id": officer_id}


def correctable_fields(kind: str) -> tuple[str, ...]:
    """The fields of a DocumentKind name the verifier reads; () for kinds it does not read."""
    reader = reader_kind(kind.lower())
    return _FIELDS.get(reader, ()) if reader else ()


def _normalised(field: str, value: str) -> str:
    text = " ".join(value.split()).upper()
    if not text:
        raise _refused(f"the corrected value of {field} is empty", field=field)
    if len(text) > MAX_VALUE_CHARS:
        raise _refused(f"the corrected value of {field} is longer than {MAX_VALUE_CHARS} "
                       "characters", field=field)
    if field == "nik" and not re.fullmatch(r"\d{16}", text):
        raise _refused("a NIK is 16 digits", field=field)
    if field == "jenis_kelamin" and text not in SEXES:
        raise _refused(f"jenis_kelamin is one of {', '.join(SEXES)}", field=field)
    if field in _DATE_FIELDS and not (field == "berlaku_hingga" and text == LIFELONG):
        try:
            text = dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise _refused(f"{field} must be a date written YYYY-MM-DD"
                           + (f" (or {LIFELONG})" if field == "berlaku_hingga" else ""),
                           field=field) from None
    return text


def check_correction(kind: str, document_sequence: int, field: str, value: str,
                     officer_note: str, documents: Iterable[StoredMessage]
                     ) -> AcceptedCorrection:
    """The correction, checked against the session's committed `documents`; InvalidInput
    (reason INVALID_CORRECTION) naming what is wrong otherwise."""
    target = next((m for m in documents if m.sequence == document_sequence), None)
    if target is None:
        raise _refused(f"sequence {document_sequence} is not a document of this session",
                       document_sequence=str(document_sequence))
    if target.error is not None:
        raise _refused(f"document {document_sequence} was refused "
                       f"({target.error.get('reason', '')}); it has no reading to correct",
                       document_sequence=str(document_sequence))
    if target.subtype != kind:
        raise _refused(f"document {document_sequence} is a {target.subtype}, not a {kind}",
                       document_sequence=str(document_sequence), document_kind=kind)
    fields = correctable_fields(kind)
    if not fields:
        raise _refused(f"{kind} documents are not read, so there is no field to correct",
                       document_kind=kind)
    if field not in fields:
        raise _refused(f"{kind} has no field {field!r}; it has {', '.join(fields)}",
                       field=field[:64], document_kind=kind)
    if len(officer_note) > MAX_NOTE_CHARS:
        raise _refused(f"the officer's note is longer than {MAX_NOTE_CHARS} characters")
    read = next((f for f in (target.result or {}).get("fields") or ()
                 if isinstance(f, dict) and f.get("name") == field), None)
    return AcceptedCorrection(kind, document_sequence, field, _normalised(field, value),
                              officer_note.strip(), read)


def field_corrected(facts: CaseFacts) -> list[Flag]:
    """One finding per corrected field (the latest correction of it counts), naming the
    reading, the correction, the officer and their note."""
    flags = []
    for doc in facts.documents:
        latest = {c.field: c for c in doc.corrections}
        for c in latest.values():
            corrected = doc.fields[c.field]  # the latest correction's value
            read = c.original.value if c.original is not None else ""
            changed = read != c.value
            severity = Severity.REVIEW if changed and c.field in IDENTITY_FIELDS \
                else Severity.INFO
            flags.append(flag(
                "documents.field_corrected", severity,
                f"Petugas {c.officer_id} mengoreksi {c.field} pada {corrected.where()}: "
                f'terbaca "{read or "(tidak terbaca)"}", dikoreksi "{c.value}"' if changed else
                f"Petugas {c.officer_id} mengonfirmasi {c.field} pada {corrected.where()}",
                f"Officer {c.officer_id} corrected {c.field} on {corrected.where(True)}: "
                f'read "{read or "(not read)"}", corrected to "{c.value}"' if changed else
                f"Officer {c.officer_id} confirmed {c.field} on {corrected.where(True)}",
                (corrected,), read_value=read,
                read_confidence=f"{c.original.confidence:.2f}" if c.original else "",
                correction_sequence=c.sequence, officer=c.officer_id,
                officer_note=c.officer_note))
    return flags


RULES = (field_corrected,)
