"""NIK (Nomor Induk Kependudukan) decoding and validation.

16 digits: province (2) + regency (2) + district (2) + birth date DDMMYY, with 40 added to
the day for women, + a 4-digit serial from 0001. The region is where the NIK was first
issued; it does not change when the holder moves.

`decode_nik` never raises: whatever it cannot decode or validate is listed in `problems`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from verifier.documents.regions import PROVINCES, REGENCIES

NIK_LENGTH = 16
Sex = Literal["MALE", "FEMALE"]


@dataclass(frozen=True)
class NikInfo:
    nik: str  # as given, with surrounding whitespace removed
    province_code: str
    regency_code: str  # four digits: province + regency ("1707"), "" when unreadable
    district_code: str  # six digits: province + regency + district, "" when unreadable
    province_name: str | None
    regency_name: str | None  # None also for valid regencies outside the built-in list
    birth_date: dt.date | None
    sex: Sex | None
    serial: int | None
    problems: tuple[str, ...]  # empty when valid

    @property
    def valid(self) -> bool:
        return not self.problems


def decode_nik(nik: str, *, today: dt.date | None = None) -> NikInfo:
    """Decode a NIK; `today` resolves the two-digit birth year (a year after today's is in
    the previous century) and defaults to the current date."""
    text = str(nik).strip()
    problems: list[str] = []
    if len(text) != NIK_LENGTH:
        problems.append(f"NIK has {len(text)} characters, expected {NIK_LENGTH}")
    if not text.isascii() or not text.isdigit():
        problems.append("NIK contains characters other than digits 0-9")
        return NikInfo(text, "", "", "", None, None, None, None, None, tuple(problems))
    if len(text) < 6:
        return NikInfo(text, text[:2], "", "", PROVINCES.get(text[:2]), None, None, None, None,
                       tuple(problems))

    province_code, regency_code, district_code = text[:2], text[:4], text[:6]
    province_name = PROVINCES.get(province_code)
    if province_name is None:
        problems.append(f"unknown province code {province_code}")
    if text[2:4] == "00":
        problems.append(f"regency code {regency_code} is not a regency (00)")
    if text[4:6] == "00":
        problems.append(f"district code {district_code} is not a district (00)")

    birth_date: dt.date | None = None
    sex: Sex | None = None
    serial: int | None = None
    if len(text) == NIK_LENGTH:
        birth_date, sex = _birth_date_and_sex(text[6:12], today or dt.date.today(), problems)
        serial = int(text[12:])
        if serial == 0:
            problems.append("serial 0000 is not issued (serials start at 0001)")
    return NikInfo(nik=text, province_code=province_code, regency_code=regency_code,
                   district_code=district_code, province_name=province_name,
                   regency_name=REGENCIES.get(regency_code), birth_date=birth_date, sex=sex,
                   serial=serial, problems=tuple(problems))


def _birth_date_and_sex(ddmmyy: str, today: dt.date,
                        problems: list[str]) -> tuple[dt.date | None, Sex | None]:
    day, month, yy = int(ddmmyy[:2]), int(ddmmyy[2:4]), int(ddmmyy[4:])
    sex: Sex | None
    if 1 <= day <= 31:
        sex = "MALE"
    elif 41 <= day <= 71:
        sex, day = "FEMALE", day - 40
    else:
        problems.append(f"birth day digits {ddmmyy[:2]} are neither 01-31 (male) "
                        "nor 41-71 (female)")
        return None, None
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        birth_date = dt.date(year, month, day)
    except ValueError:
        problems.append(f"birth date {day:02d}-{month:02d}-{yy:02d} does not exist")
        return None, sex
    if birth_date > today:
        problems.append(f"birth date {birth_date.isoformat()} is in the future")
    return birth_date, sex


def encode_nik(district_code: str, birth_date: dt.date, sex: Sex, serial: int) -> str:
    """The NIK for these parts (the synthetic-document generator uses it)."""
    if len(district_code) != 6 or not district_code.isdigit():
        raise ValueError(f"district code must be 6 digits, got {district_code!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1-9999, got {serial}")
    day = birth_date.day + (40 if sex == "FEMALE" else 0)
    return f"{district_code}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
