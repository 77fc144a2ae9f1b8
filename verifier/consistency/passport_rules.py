"""The old passport's machine-readable zone (its name, birth date and sex are compared with
the other documents by the identity rules)."""

from __future__ import annotations

from verifier.consistency.evidence import flag
from verifier.consistency.facts import CaseFacts
from verifier.consistency.verdict import Flag, Severity

_FALSE = {"FALSE", "0", "NO", "TIDAK"}


def mrz_check_digits(facts: CaseFacts) -> list[Flag]:
    return [flag("passport.mrz_check_digits_failed", Severity.REVIEW,
                 f"Digit pemeriksa MRZ {ok.where()} tidak cocok",
                 f"The MRZ check digits of {ok.where(True)} do not add up", (ok,))
            for doc in facts.of_kind("OLD_PASSPORT")
            if (ok := doc.get("mrz_check_digits_ok")) and ok.value.upper() in _FALSE]


def mrz_nationality(facts: CaseFacts) -> list[Flag]:
    flags = []
    for doc in facts.of_kind("OLD_PASSPORT"):
        for name in ("nationality", "issuing_state"):
            value = doc.get(name)
            if value and value.value.upper() != "IDN":
                flags.append(flag(
                    f"passport.{name}_not_idn", Severity.REVIEW,
                    f"Paspor lama: {name} {value.value}, bukan IDN",
                    f"Old passport: {name} is {value.value}, not IDN", (value,)))
    return flags


def mrz_nik(facts: CaseFacts) -> list[Flag]:
    """A 16-digit personal number in the MRZ is taken as a NIK and must be the applicant's;
    passports that leave the field empty or use it otherwise are not flagged."""
    nik = facts.app("nik")
    ktp = facts.applicant_ktp
    nik = (ktp.get("nik") if ktp else None) or nik
    flags = []
    for doc in facts.of_kind("OLD_PASSPORT"):
        personal = doc.get("personal_number")
        if nik and personal and personal.value.isdigit() and len(personal.value) == 16 \
                and personal.value != nik.value:
            flags.append(flag("passport.nik_mismatch", Severity.FAIL,
                              "NIK pada MRZ paspor lama berbeda dengan NIK pemohon",
                              "The NIK in the old passport's MRZ differs from the applicant's",
                              (nik, personal)))
    return flags


RULES = (mrz_check_digits, mrz_nationality, mrz_nik)
