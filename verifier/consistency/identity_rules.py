"""Who the applicant is, across the form and every document: name, date and place of birth,
sex (the NIK's encoded birth date and sex count as one more source)."""

from __future__ import annotations

import re

from verifier.consistency.evidence import flag
from verifier.consistency.facts import CaseFacts, Value, parse_date
from verifier.consistency.names import NameAgreement, compare_names
from verifier.consistency.verdict import Flag, Severity
from verifier.documents.nik import decode_nik

# Documents that carry the holder's own name as "nama" (a marriage book names two people).
NAMED_DOCUMENTS = ("KTP", "AKTA_KELAHIRAN", "IJAZAH")

_SEX = {"MALE": "MALE", "M": "MALE", "L": "MALE", "LAKI-LAKI": "MALE", "LAKI LAKI": "MALE",
        "FEMALE": "FEMALE", "F": "FEMALE", "P": "FEMALE", "PEREMPUAN": "FEMALE",
        "WANITA": "FEMALE"}


def _own_documents(facts: CaseFacts, kind: str) -> tuple:
    if kind == "KTP":
        own = facts.applicant_ktp
        return (own,) if own is not None else ()
    return facts.of_kind(kind)


def _nik_values(facts: CaseFacts) -> list[Value]:
    """The NIKs to decode: the KTP's, else the form's."""
    ktp = facts.applicant_ktp
    nik = (ktp.get("nik") if ktp else None) or facts.app("nik")
    return [nik] if nik else []


def _passport_names(facts: CaseFacts) -> list[tuple[Value, ...]]:
    """The MRZ name both ways round: Indonesian passports split a name into surname and
    given names inconsistently (or put all of it in one)."""
    out = []
    for doc in facts.of_kind("OLD_PASSPORT"):
        given, surname = doc.get("given_names"), doc.get("surname")
        parts = [v for v in (given, surname) if v]
        if not parts:
            continue
        confidence = min(v.confidence for v in parts)
        out.append(tuple(Value(doc.source, "+".join(v.field for v in order),
                               " ".join(v.value for v in order), confidence)
                         for order in (parts, parts[::-1])))
    return out


_AGREEMENT_ORDER = (NameAgreement.SAME, NameAgreement.PARTIAL, NameAgreement.DIFFERENT)


def name_agrees(facts: CaseFacts) -> list[Flag]:
    reference = facts.app("full_name")
    names: list[tuple[Value, ...]] = [
        (v,) for kind in NAMED_DOCUMENTS for doc in _own_documents(facts, kind)
        if (v := doc.get("nama"))] + _passport_names(facts)
    if reference is None and names:
        reference, names = names[0][0], names[1:]
    flags = []
    for candidates in names:
        assert reference is not None
        other, c = min(((v, compare_names(reference.value, v.value)) for v in candidates),
                       key=lambda vc: (_AGREEMENT_ORDER.index(vc[1].agreement),
                                       len(vc[1].variants)))
        explanation = c.explanation
        if c.agreement is NameAgreement.SAME and c.variants:
            flags.append(flag(
                "identity.name_variant", Severity.INFO,
                f"Nama pada {other.where()} sama, dengan varian: {explanation}",
                f"Name on {other.where(True)} matches as a variant: {explanation}",
                (reference, other), variant=explanation))
        elif c.agreement is NameAgreement.PARTIAL:
            flags.append(flag(
                "identity.name_partial", Severity.REVIEW,
                f"Nama pada {other.where()} hanya sebagian sama dengan {reference.where()} "
                f"({explanation}); periksa",
                f"Name on {other.where(True)} only partly matches {reference.where(True)} "
                f"({explanation}); check it",
                (reference, other), variant=explanation))
        elif c.agreement is NameAgreement.DIFFERENT:
            flags.append(flag(
                "identity.name_mismatch", Severity.FAIL,
                f"Nama pada {other.where()} berbeda dengan {reference.where()}",
                f"Name on {other.where(True)} differs from {reference.where(True)}",
                (reference, other), variant=explanation))
    return flags


def birth_date_agrees(facts: CaseFacts) -> list[Flag]:
    values = [v for v in [facts.app("date_of_birth")] + [
        doc.get("tanggal_lahir") for kind in NAMED_DOCUMENTS + ("OLD_PASSPORT",)
        for doc in _own_documents(facts, kind)] if v is not None]
    dates = {v.key: d for v in values if (d := parse_date(v)) is not None}
    for nik in _nik_values(facts):
        info = decode_nik(nik.value, today=facts.on_date)
        if info.birth_date is not None:
            values.append(Value("nik", "birth_date", info.birth_date.isoformat(), nik.confidence))
            dates["nik.birth_date"] = info.birth_date
    if len(set(dates.values())) <= 1:
        return []
    return [flag("identity.birth_date_mismatch", Severity.FAIL,
                 "Tanggal lahir berbeda antar dokumen",
                 "Date of birth differs between documents",
                 [v for v in values if v.key in dates])]


def _place(text: str) -> str:
    text = re.sub(r"\b(KABUPATEN|KAB|KOTA|KOTAMADYA)\b\.?", " ", text.upper())
    return re.sub(r"[^A-Z]", "", text)


def birth_place_agrees(facts: CaseFacts) -> list[Flag]:
    values = [v for v in [facts.app("place_of_birth")] + [
        doc.get("tempat_lahir") for kind in NAMED_DOCUMENTS for doc in _own_documents(facts, kind)]
        if v is not None and _place(v.value)]
    if len({_place(v.value) for v in values}) <= 1:
        return []
    # Regency names change (Lebong from Rejang Lebong, 2003) and villages are written for
    # regencies: a person decides.
    return [flag("identity.birth_place_mismatch", Severity.REVIEW,
                 "Tempat lahir berbeda antar dokumen; periksa",
                 "Place of birth differs between documents; check it", values)]


def sex_agrees(facts: CaseFacts) -> list[Flag]:
    values = [v for v in [facts.app("sex")] + [
        doc.get("jenis_kelamin") for kind in ("KTP", "OLD_PASSPORT")
        for doc in _own_documents(facts, kind)] if v is not None]
    for nik in _nik_values(facts):
        info = decode_nik(nik.value, today=facts.on_date)
        if info.sex is not None:
            values.append(Value("nik", "sex", info.sex, nik.confidence))
    known = [v for v in values if v.value.upper() in _SEX]
    if len({_SEX[v.value.upper()] for v in known}) <= 1:
        return []
    return [flag("identity.sex_mismatch", Severity.FAIL,
                 "Jenis kelamin berbeda antar dokumen", "Sex differs between documents", known)]


RULES = (name_agrees, birth_date_agrees, birth_place_agrees, sex_agrees)
