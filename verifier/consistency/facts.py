"""What the document rules compare: the application form and the fields read from each
document, gathered once from a case's messages.

Every value keeps its source label ("application", "ktp@3" = the KTP sent as message 3) so
that a flag's evidence says where each value came from and the review page can highlight it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from verifier.cases.store import CaseContents
from verifier.consistency.names import NameAgreement, compare_names


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
class Document:
    kind: str  # DocumentKind name without prefix: "KTP", "AKTA_KELAHIRAN", "OLD_PASSPORT"
    sequence: int
    fields: dict[str, Value]

    @property
    def source(self) -> str:
        return f"{self.kind.lower()}@{self.sequence}"

    def get(self, name: str) -> Value | None:
        found = self.fields.get(name)
        return found if found is not None and found.value.strip() else None


@dataclass(frozen=True)
class CaseFacts:
    application: dict[str, Any]
    documents: tuple[Document, ...]  # readable documents in the order they were sent
    on_date: dt.date  # the day of the visit: ages and validity are judged on it

    def of_kind(self, kind: str) -> tuple[Document, ...]:
        return tuple(d for d in self.documents if d.kind == kind)

    def first(self, kind: str) -> Document | None:
        found = self.of_kind(kind)
        return found[0] if found else None

    def app(self, name: str) -> Value | None:
        raw = self.application.get(name)
        if raw is None or not str(raw).strip():
            return None
        return Value("application", name, str(raw).strip(), 1.0)

    @property
    def applicant_ktp(self) -> Document | None:
        """The applicant's own KTP: the one with the application's NIK, else the one with the
        application's name, else the only one. Other KTPs are the parents' (minors)."""
        ktps = self.of_kind("KTP")
        nik = self.app("nik")
        name = self.app("full_name")
        for doc in ktps:
            if nik and (v := doc.get("nik")) and v.value == nik.value:
                return doc
        for doc in ktps:
            if name and (v := doc.get("nama")) and compare_names(
                    v.value, name.value).agreement is NameAgreement.SAME:
                return doc
        return ktps[0] if len(ktps) == 1 else None

    @property
    def other_ktps(self) -> tuple[Document, ...]:
        own = self.applicant_ktp
        return tuple(d for d in self.of_kind("KTP") if d is not own)


def gather_facts(contents: CaseContents) -> CaseFacts:
    documents = []
    for message in contents.messages:
        if message.kind != "document" or message.error is not None or not message.subtype:
            continue
        result = message.result or {}
        source = f"{message.subtype.lower()}@{message.sequence}"
        fields = {}
        for f in result.get("fields") or ():
            if isinstance(f, dict) and f.get("name") and isinstance(f.get("value"), str):
                fields[str(f["name"])] = Value(source, str(f["name"]), f["value"].strip(),
                                               float(f.get("confidence") or 0.0))
        documents.append(Document(message.subtype, message.sequence, fields))
    started = contents.started_at or dt.datetime.now(dt.timezone.utc)
    return CaseFacts(application=dict(contents.application), documents=tuple(documents),
                     on_date=started.date())


def parse_date(value: Value | None) -> dt.date | None:
    """An ISO date, or None when absent or unreadable (the rule then has nothing to compare)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.value[:10])
    except ValueError:
        return None
