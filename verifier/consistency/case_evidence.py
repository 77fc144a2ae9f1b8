"""`CaseEvidence`: everything the rules judge a case on, assembled once at Finish from the
typed results that were computed when each item arrived. Building it decodes no image and
runs no model: document fields, portrait faces, the live capture's face, fingerprint
quality and templates are all in the stored results.

A per-item failure (a document not read, no face on a card, a finger under the NFIQ 2 gate,
an item the decode gate refused) is evidence like any other: the rules decide what it means
for the verdict.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from verifier.cases.store import CaseContents, StoredMessage
from lebong_contract.errors import InvalidInput
from verifier.face.evidence import FaceEvidence
from verifier.face.liveness.session import LivenessEvidence, liveness_evidence
from verifier.fingerprint.provenance import Provenance
from verifier.fingerprint.session_pairs import PairScore
from verifier.fingerprint.template import template_from_text

log = logging.getLogger(__name__)

# The documents whose portrait is compared with the live face (DocumentKind names).
FACE_DOCUMENT_KINDS = ("KTP", "OLD_PASSPORT", "UPLOADED_PHOTO")


_SOURCE_NAMES = {  # what officers call each source: (Indonesian, English)
    "application": ("formulir", "the application form"), "nik": ("NIK", "the NIK"),
    "ktp": ("KTP", "the KTP"), "akta_kelahiran": ("akta kelahiran", "the birth certificate"),
    "ijazah": ("ijazah", "the diploma"), "buku_nikah": ("buku nikah", "the marriage book"),
    "kartu_keluarga": ("kartu keluarga", "the family card"),
    "old_passport": ("paspor lama", "the old passport")}


def source_name(source: str, english: bool) -> str:
    """"ktp@3" -> "KTP (#3)" / "the KTP (#3)"."""
    kind, _, sequence = source.partition("@")
    names = _SOURCE_NAMES.get(kind, (kind, kind))
    name = names[1] if english else names[0]
    return f"{name} (#{sequence})" if sequence else name


@dataclass(frozen=True)
class Value:
    source: str  # "application", "ktp@3", "akta_kelahiran@4", "old_passport@5"
    field: str  # the field's name on that source
    value: str
    confidence: float  # 1.0 for what the applicant typed

    def where(self, english: bool = False) -> str:
        return source_name(self.source, english)

    @property
    def key(self) -> str:
        """The evidence key: "ktp@3.nama"."""
        return f"{self.source}.{self.field}"


@dataclass(frozen=True)
class FieldCorrection:
    """An officer's correction of one read field (verifier.consistency.corrections)."""

    sequence: int  # the correction's own message
    field: str
    value: str
    original: Value | None  # the reading it corrects; None: the field was not read
    officer_id: str
    officer_note: str


@dataclass(frozen=True)
class DocumentEvidence:
    kind: str  # DocumentKind name without prefix: "KTP", "AKTA_KELAHIRAN", "OLD_PASSPORT"
    sequence: int
    fields: dict[str, Value]  # as the rules compare them: the officer's corrections applied
    read_share: float | None  # share of the kind's fields read; None: no reader for the kind
    face: FaceEvidence | None  # the portrait, when one was searched for and found
    face_searched: bool  # False for kinds without a portrait (or items stored before search)
    corrections: tuple[FieldCorrection, ...] = ()  # in the order they were sent

    @property
    def source(self) -> str:
        return f"{self.kind.lower()}@{self.sequence}"

    @property
    def read_fields(self) -> dict[str, Value]:
        """The fields as the reader read them, before any correction."""
        read = dict(self.fields)
        for c in self.corrections:
            if c.original is None:
                read.pop(c.field, None)
            else:
                read[c.field] = c.original
        return read

    def get(self, name: str) -> Value | None:
        found = self.fields.get(name)
        return found if found is not None and found.value.strip() else None


@dataclass(frozen=True)
class FingerCapture:
    position: int  # ISO/IEC 19794-4 finger position 1-10
    sequence: int
    nfiq2: int | None  # None: NFIQ 2 could not assess the print
    gate_passed: bool  # the NFIQ 2 gate (and resolution) as judged when it arrived
    template: bytes | None  # ISO/IEC 19794-2; None when no minutiae could be extracted
    # Scores against the other slots' captures that were in the case when this one arrived.
    pair_scores: tuple[PairScore, ...] = ()
    # It matched another slot's capture when it arrived (the officer was told to recapture).
    matched_other_slot: bool = False
    # Which device signed it (verifier.fingerprint.provenance); None: stored before the check.
    provenance: Provenance | None = None


@dataclass(frozen=True)
class FingerException:
    position: int
    sequence: int
    reason: str
    officer_note: str


@dataclass(frozen=True)
class RejectedItem:
    sequence: int
    kind: str
    reason: str
    message: str


@dataclass(frozen=True)
class LiveCapture:
    sequence: int
    face: FaceEvidence | None  # None: no face could be embedded on the accepted frame


@dataclass(frozen=True)
class CaseEvidence:
    case_id: str
    application: dict[str, Any]
    on_date: dt.date  # the day of the visit: ages and validity are judged on it
    frames_received: int
    capture: LiveCapture | None
    documents: tuple[DocumentEvidence, ...]  # accepted documents in the order sent
    fingerprints: tuple[FingerCapture, ...]  # every capture, retries included
    exceptions: tuple[FingerException, ...]
    rejected: tuple[RejectedItem, ...]  # items the decode gate or validation refused
    # The liveness challenge and the frames' measures; None when no frame holds them.
    liveness: LivenessEvidence | None = None

    @property
    def nik(self) -> str:
        return str(self.application.get("nik") or "").strip()

    def of_kind(self, kind: str) -> tuple[DocumentEvidence, ...]:
        return tuple(d for d in self.documents if d.kind == kind)

    def best_fingers(self) -> dict[int, FingerCapture]:
        """Per position, the capture that passed the gate with the highest NFIQ 2, else the
        best failed one (retries are kept; the best one counts). A retake after the "same
        finger as another slot" warning is preferred to the capture that drew it."""
        def rank(f: FingerCapture) -> tuple[bool, bool, int]:
            return f.gate_passed, not f.matched_other_slot, f.nfiq2 or -1

        best: dict[int, FingerCapture] = {}
        for f in self.fingerprints:
            current = best.get(f.position)
            if current is None or rank(f) > rank(current):
                best[f.position] = f
        return best

    def exception_positions(self) -> dict[int, FingerException]:
        return {e.position: e for e in self.exceptions}


def _check_passed(result: dict[str, Any], requirement: str) -> bool:
    return any(isinstance(c, dict) and c.get("requirement") == requirement
               and c.get("outcome") == "pass" for c in result.get("checks") or ())


def _check_failed(result: dict[str, Any], requirement: str) -> bool:
    return any(isinstance(c, dict) and c.get("requirement") == requirement
               and c.get("outcome") == "fail" for c in result.get("checks") or ())


def _check_value(result: dict[str, Any], requirement: str) -> float | None:
    for c in result.get("checks") or ():
        if isinstance(c, dict) and c.get("requirement") == requirement:
            try:
                return float(c.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
    return None


def _document(m: StoredMessage, corrected_by: list[StoredMessage]) -> DocumentEvidence:
    """The document's reading with `corrected_by` (its correction messages, in order)
    applied; each correction keeps the value it replaced."""
    result = m.result or {}
    source = f"{str(m.subtype).lower()}@{m.sequence}"
    fields = {}
    for f in result.get("fields") or ():
        if isinstance(f, dict) and f.get("name") and isinstance(f.get("value"), str):
            fields[str(f["name"])] = Value(source, str(f["name"]), f["value"].strip(),
                                           float(f.get("confidence") or 0.0))
    read = dict(fields)
    corrections = []
    for c in corrected_by:
        record = c.result or {}
        name, value = str(record.get("field", "")), str(record.get("value", ""))
        corrections.append(FieldCorrection(
            c.sequence, name, value, read.get(name), str(record.get("officer_id", "")),
            str(record.get("officer_note", ""))))
        fields[name] = Value(source, name, value, 1.0)  # the officer read it off the card
    reader = (result.get("record") or {}).get("reader_kind")
    face_record = result.get("face")
    return DocumentEvidence(
        kind=str(m.subtype), sequence=m.sequence, fields=fields,
        read_share=_check_value(result, "document_read") if reader else None,
        face=FaceEvidence.from_record(face_record), face_searched=face_record is not None,
        corrections=tuple(corrections))


def finger_capture(m: StoredMessage) -> FingerCapture:
    """A stored fingerprint message as evidence."""
    result = m.result or {}
    record = result.get("record") or {}
    template = None
    if record.get("template_iso19794_2_b64"):
        try:
            template = template_from_text(record["template_iso19794_2_b64"])
        except InvalidInput:
            log.warning("finger message %d holds an unreadable template", m.sequence)
    nfiq2 = record.get("nfiq2")
    return FingerCapture(
        position=int(str(m.subtype)), sequence=m.sequence,
        nfiq2=int(nfiq2) if isinstance(nfiq2, int | float) else None,
        gate_passed=_check_passed(result, "nfiq2") and template is not None,
        template=template,
        pair_scores=tuple(p for p in map(PairScore.from_record, result.get("pair_scores") or ())
                          if p is not None),
        matched_other_slot=_check_failed(result, "same_finger"),
        provenance=Provenance.from_record(result.get("provenance")))


def corrections_by_document(messages: tuple[StoredMessage, ...]
                            ) -> dict[int, list[StoredMessage]]:
    """The accepted field corrections per corrected document's sequence, in order."""
    found: dict[int, list[StoredMessage]] = {}
    for m in messages:
        if m.kind == "field_correction" and m.error is None and m.result:
            found.setdefault(int(m.result.get("document_sequence") or 0), []).append(m)
    return found


def case_evidence(contents: CaseContents) -> CaseEvidence:
    documents, fingers, exceptions, rejected = [], [], [], []
    capture = None
    frames = 0
    corrections = corrections_by_document(contents.messages)
    for m in contents.messages:
        if m.kind == "frame":
            frames += 1
        if m.error is not None:
            # A refused correction leaves the reading as it was, a refused retake the photo
            # (the officer was told at once): nothing about the case to review.
            if m.kind not in ("frame", "field_correction", "photo_retake"):
                rejected.append(RejectedItem(m.sequence, m.kind, str(m.error.get("reason", "")),
                                             str(m.error.get("message", ""))))
            continue
        if m.sequence == contents.capture_sequence:
            capture = LiveCapture(m.sequence, FaceEvidence.from_record((m.result or {})
                                                                       .get("face")))
        elif m.kind == "document" and m.subtype:
            documents.append(_document(m, corrections.get(m.sequence, [])))
        elif m.kind == "fingerprint" and m.subtype and m.subtype.isdigit():
            fingers.append(finger_capture(m))
        elif m.kind == "fingerprint_exception" and m.subtype and m.subtype.isdigit():
            result = m.result or {}
            exceptions.append(FingerException(int(m.subtype), m.sequence,
                                              str(result.get("reason", "")),
                                              str(result.get("officer_note", ""))))
    started = contents.started_at or dt.datetime.now(dt.timezone.utc)
    return CaseEvidence(case_id=contents.case_id, application=dict(contents.application),
                        on_date=started.date(), frames_received=frames, capture=capture,
                        documents=tuple(documents), fingerprints=tuple(fingers),
                        exceptions=tuple(exceptions), rejected=tuple(rejected),
                        liveness=liveness_evidence((m.sequence, m.result)
                                                   for m in contents.messages
                                                   if m.kind == "frame" and m.error is None))
