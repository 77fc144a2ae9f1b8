"""What the document rules compare: the application form and the fields read from each
document, taken from the case's evidence.

Every value keeps its source label ("application", "ktp@3" = the KTP sent as message 3) so
that a flag's evidence says where each value came from and the review page can highlight it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["CaseFacts", "Document", "Value", "gather_facts", "parse_date", "source_name"]

from verifier.consistency.case_evidence import CaseEvidence, DocumentEvidence, Value, source_name
from verifier.consistency.names import NameAgreement, compare_names

# Rules see a document as the evidence holds it.
Document = DocumentEvidence


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


def gather_facts(evidence: CaseEvidence) -> CaseFacts:
    return CaseFacts(application=dict(evidence.application), documents=evidence.documents,
                     on_date=evidence.on_date)


def parse_date(value: Value | None) -> dt.date | None:
    """An ISO date, or None when absent or unreadable (the rule then has nothing to compare)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.value[:10])
    except ValueError:
        return None
