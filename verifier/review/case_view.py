"""What the case page shows, gathered from the store: the evidence side by side, each read
field marked when a flag's evidence names it, the photo-requirement table and fingerprint
qualities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.cases.store import CaseStore, CaseSummary, ReviewRecord, StoredMessage
from verifier.consistency.case_evidence import corrections_by_document
from verifier.consistency.verdict import Flag, Match, Verdict


@dataclass(frozen=True)
class CorrectionView:
    """An officer's correction of a read field; the reading stays in its FieldView."""

    sequence: int
    value: str
    officer_id: str
    officer_note: str


@dataclass(frozen=True)
class FieldView:
    name: str
    value: str  # as read ("" when the reader did not read it and an officer supplied it)
    raw_text: str
    confidence: float
    flagged_by: tuple[str, ...]  # rule ids whose evidence names this field
    corrections: tuple[CorrectionView, ...] = ()  # oldest first; the last one counts


@dataclass(frozen=True)
class DocumentView:
    sequence: int
    kind: str
    source: str  # "ktp@3", the label flags use
    has_image: bool
    fields: tuple[FieldView, ...]
    checks: tuple[dict[str, Any], ...]
    matches: tuple[Match, ...]  # the live face compared with this document's photo
    error: str


@dataclass(frozen=True)
class FingerprintView:
    sequence: int
    position: str
    has_image: bool
    checks: tuple[dict[str, Any], ...]
    exception: str


@dataclass(frozen=True)
class CaseView:
    summary: CaseSummary
    application: dict[str, Any]
    application_flagged: dict[str, tuple[str, ...]]  # form field -> rule ids
    verdict: Verdict | None
    capture_sequence: int | None
    capture_has_image: bool
    photo_requirements: tuple[dict[str, Any], ...]
    documents: tuple[DocumentView, ...]
    fingerprints: tuple[FingerprintView, ...]
    other_matches: tuple[Match, ...]  # gallery searches and finger-to-finger comparisons
    reviews: tuple[ReviewRecord, ...]


def _flagged(flags: tuple[Flag, ...], source: str, field: str) -> tuple[str, ...]:
    key = f"{source}.{field}"
    return tuple(dict.fromkeys(f.rule_id for f in flags if key in f.evidence))


def _refers_to(match: Match, message: StoredMessage, latest: dict[str | None, int]) -> bool:
    """Whether a match's reference names this message: "ktp_photo" means the latest KTP
    scanned (a rescan replaces the earlier one)."""
    ref = match.reference.lower()
    return (f"message:{message.sequence}" in ref or (
        bool(message.subtype) and (message.subtype or "").lower() in ref
        and latest.get(message.subtype) == message.sequence))


def _fields(result: dict[str, Any], corrections: list[StoredMessage], flags: tuple[Flag, ...],
            source: str) -> tuple[FieldView, ...]:
    """The fields as read, each with its corrections; a field only an officer supplied
    comes last."""
    by_field: dict[str, list[CorrectionView]] = {}
    for c in corrections:
        record = c.result or {}
        by_field.setdefault(str(record.get("field", "")), []).append(CorrectionView(
            c.sequence, str(record.get("value", "")), str(record.get("officer_id", "")),
            str(record.get("officer_note", ""))))
    read = [f for f in result.get("fields") or () if isinstance(f, dict)]
    names = [str(f.get("name", "")) for f in read]
    views = [FieldView(
        name=name, value=str(f.get("value", "")), raw_text=str(f.get("raw_text", "")),
        confidence=float(f.get("confidence") or 0.0), flagged_by=_flagged(flags, source, name),
        corrections=tuple(by_field.get(name, ()))) for name, f in zip(names, read)]
    views += [FieldView(name=name, value="", raw_text="", confidence=0.0,
                        flagged_by=_flagged(flags, source, name), corrections=tuple(found))
              for name, found in by_field.items() if name not in names]
    return tuple(views)


def case_view(store: CaseStore, case_id: str) -> CaseView:
    summary = store.summary(case_id)
    contents = store.contents(case_id)
    verdict = store.verdict(case_id)
    flags = verdict.flags if verdict else ()
    matches = verdict.matches if verdict else ()
    latest = {m.subtype: m.sequence for m in contents.messages
              if m.kind == "document" and m.has_payload}
    used: set[int] = set()
    corrections = corrections_by_document(contents.messages)
    documents, fingerprints = [], []
    capture_requirements: tuple[dict[str, Any], ...] = ()
    capture_has_image = False
    for m in contents.messages:
        result = m.result or {}
        if m.sequence == contents.capture_sequence:
            capture_requirements = tuple(r for r in result.get("requirements") or ()
                                         if isinstance(r, dict))
            capture_has_image = m.has_payload
        elif m.kind == "document":
            source = f"{(m.subtype or 'document').lower()}@{m.sequence}"
            mine = tuple(x for x in matches if x.modality == "face" and _refers_to(x, m, latest))
            used.update(id(x) for x in mine)
            documents.append(DocumentView(
                sequence=m.sequence, kind=m.subtype or "?", source=source,
                has_image=m.has_payload,
                fields=_fields(result, corrections.get(m.sequence, []), flags, source),
                checks=tuple(c for c in result.get("checks") or () if isinstance(c, dict)),
                matches=mine, error=str((m.error or {}).get("message", ""))))
        elif m.kind in ("fingerprint", "fingerprint_exception"):
            fingerprints.append(FingerprintView(
                sequence=m.sequence, position=m.subtype or "?", has_image=m.has_payload,
                checks=tuple(c for c in result.get("checks") or () if isinstance(c, dict)),
                exception=str(result.get("reason", "")) if m.kind == "fingerprint_exception"
                else ""))
    application = contents.application
    return CaseView(
        summary=summary, application=application,
        application_flagged={k: _flagged(flags, "application", k) for k in application},
        verdict=verdict, capture_sequence=contents.capture_sequence,
        capture_has_image=capture_has_image, photo_requirements=capture_requirements,
        documents=tuple(documents), fingerprints=tuple(fingerprints),
        other_matches=tuple(x for x in matches if id(x) not in used),
        reviews=tuple(store.reviews(case_id)))
