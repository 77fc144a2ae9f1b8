"""The KTP itself: its NIK (against the form, decodable), the NIK's region against the card's
header, and its printed validity date."""

from __future__ import annotations

import re

from verifier.consistency.evidence import flag
from verifier.consistency.facts import CaseFacts, Value, parse_date
from verifier.consistency.verdict import Flag, Severity
from verifier.documents.nik import decode_nik


def nik_agrees(facts: CaseFacts) -> list[Flag]:
    form = facts.app("nik")
    ktp = facts.applicant_ktp
    card = ktp.get("nik") if ktp else None
    if form and card and form.value != card.value:
        return [flag("nik.mismatch", Severity.FAIL, "NIK pada formulir berbeda dengan NIK pada KTP",
                     "The NIK on the form differs from the NIK on the KTP", (form, card))]
    return []


def nik_valid(facts: CaseFacts) -> list[Flag]:
    flags = []
    ktp = facts.applicant_ktp
    for nik in dict.fromkeys(v for v in (facts.app("nik"), ktp.get("nik") if ktp else None)
                             if v is not None):
        info = decode_nik(nik.value, today=facts.on_date)
        if info.problems:
            problems = "; ".join(info.problems)
            flags.append(flag("nik.invalid", Severity.REVIEW,
                              f"NIK dari {nik.where()} tidak sah: {problems}",
                              f"The NIK from {nik.where(True)} is not valid: {problems}",
                              (nik,), problems=problems))
    return flags


def _region(text: str) -> str:
    return re.sub(r"[^A-Z]", "", re.sub(r"\b(KABUPATEN|KAB)\b\.?", "", text.upper()))


def nik_region_matches_header(facts: CaseFacts) -> list[Flag]:
    """The NIK's province and regency are where it was first issued; the header is where the
    card was printed. A different regency is normal after a move (and for older Lebong
    residents, whose NIKs start 1702 Rejang Lebong); a different province deserves a look."""
    ktp = facts.applicant_ktp
    nik = ktp.get("nik") if ktp else None
    if ktp is None or nik is None:
        return []
    info = decode_nik(nik.value, today=facts.on_date)
    province, regency = ktp.get("provinsi"), ktp.get("kabupaten_kota")
    if province and info.province_name and _region(province.value) != _region(info.province_name):
        return [flag("nik.province_differs_from_header", Severity.REVIEW,
                     f"Kode provinsi NIK ({info.province_name}) berbeda dengan kepala KTP",
                     f"The NIK's province ({info.province_name}) differs from the card header",
                     (nik, province), nik_province=info.province_name)]
    if regency and info.regency_name and _region(regency.value) != _region(info.regency_name):
        return [flag("nik.regency_differs_from_header", Severity.INFO,
                     f"Kode kabupaten NIK ({info.regency_name}) berbeda dengan kepala KTP; "
                     "wajar bila pindah domisili",
                     f"The NIK's regency ({info.regency_name}) differs from the card header; "
                     "normal after a move", (nik, regency), nik_regency=info.regency_name)]
    return []


def ktp_validity(facts: CaseFacts) -> list[Flag]:
    ktp = facts.applicant_ktp
    until: Value | None = ktp.get("berlaku_hingga") if ktp else None
    expiry = parse_date(until)
    if until is None or expiry is None or expiry >= facts.on_date:
        return []
    # Since UU 24/2013 an e-KTP is valid for life whatever date it prints; a date that has
    # passed on a card that is not an e-KTP means it must be replaced.
    return [flag("ktp.validity_date_passed", Severity.REVIEW,
                 f"Masa berlaku KTP tertulis {expiry.isoformat()} sudah lewat; pastikan e-KTP "
                 "(berlaku seumur hidup)",
                 f"The KTP's printed validity date {expiry.isoformat()} has passed; check it "
                 "is an e-KTP (valid for life)", (until,), case_date=facts.on_date.isoformat())]


RULES = (nik_agrees, nik_valid, nik_region_matches_header, ktp_validity)
