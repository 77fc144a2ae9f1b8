"""An applicant under 17 (by the birth date) applies with a birth certificate, both parents'
KTPs and their consent; the parents' names on the certificate must be those on their KTPs."""

from __future__ import annotations

import datetime as dt

from verifier.consistency.evidence import flag
from verifier.consistency.facts import CaseFacts, Value, parse_date
from verifier.consistency.names import NameAgreement, compare_names
from verifier.consistency.verdict import Flag, Severity
from verifier.documents.nik import decode_nik

# Adminduk (UU 24/2013): a KTP, and adulthood for the passport office, at 17.
ADULT_AGE_YEARS = 17


def birth_date(facts: CaseFacts) -> tuple[dt.date, Value] | None:
    ktp = facts.applicant_ktp
    akta = facts.first("AKTA_KELAHIRAN")
    for value in (facts.app("date_of_birth"), ktp.get("tanggal_lahir") if ktp else None,
                  akta.get("tanggal_lahir") if akta else None):
        if (born := parse_date(value)) is not None:
            assert value is not None
            return born, value
    nik = facts.app("nik")
    if nik and (born := decode_nik(nik.value, today=facts.on_date).birth_date):
        return born, Value("nik", "birth_date", born.isoformat(), nik.confidence)
    return None


def age_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def minor_documents(facts: CaseFacts) -> list[Flag]:
    found = birth_date(facts)
    if found is None:
        return []
    born, source = found
    age = age_years(born, facts.on_date)
    if age >= ADULT_AGE_YEARS:
        return []
    flags = []
    akta = facts.first("AKTA_KELAHIRAN")
    if akta is None:
        flags.append(flag("minor.birth_certificate_missing", Severity.REVIEW,
                          f"Pemohon anak ({age} tahun) tanpa akta kelahiran",
                          f"Applicant is a minor ({age}) and no birth certificate was scanned",
                          (source,), age_years=age))
    parents = facts.other_ktps
    if len(parents) < 2:
        flags.append(flag("minor.parent_ktp_missing", Severity.REVIEW,
                          f"Pemohon anak ({age} tahun): KTP kedua orang tua diperlukan, "
                          f"ada {len(parents)}",
                          f"Applicant is a minor ({age}): both parents' KTPs are needed, "
                          f"{len(parents)} scanned", (source,), age_years=age))
    if facts.application.get("parents_consent") is not True:
        flags.append(flag("minor.consent_missing", Severity.REVIEW,
                          f"Pemohon anak ({age} tahun): surat persetujuan orang tua belum dicatat",
                          f"Applicant is a minor ({age}): the parents' consent is not recorded",
                          (source,), age_years=age))
    if akta is not None:
        flags += _parent_names(akta.get("nama_ayah"), parents)
        flags += _parent_names(akta.get("nama_ibu"), parents)
    return flags


def _parent_names(on_certificate: Value | None, parents: tuple) -> list[Flag]:
    names = [v for doc in parents if (v := doc.get("nama"))]
    if on_certificate is None or not names:
        return []
    comparisons = [(v, compare_names(on_certificate.value, v.value)) for v in names]
    if any(c.agreement is NameAgreement.SAME for _, c in comparisons):
        return []
    closest = min(comparisons, key=lambda vc: vc[1].agreement is not NameAgreement.PARTIAL)
    return [flag("minor.parent_name_mismatch", Severity.REVIEW,
                 f"Nama orang tua pada akta ({on_certificate.field}) tidak ada pada KTP orang tua",
                 f"The parent's name on the birth certificate ({on_certificate.field}) is on "
                 "neither parent's KTP", (on_certificate, *names),
                 closest=closest[1].explanation)]


RULES = (minor_documents,)
