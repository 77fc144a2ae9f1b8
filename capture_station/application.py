"""The application form as JSON, validated into `ApplicationData` before a session starts.

    {"full_name": "...", "nik": "1707...", "date_of_birth": "YYYY-MM-DD",
     "place_of_birth": "...", "sex": "male|female", "passport_type": "ordinary|electronic",
     "parents_consent": true,          (optional; minors only: both parents signed consent)
     "application_kind": "first|renewal"}  (optional; default first)

Every problem is reported at once, so the officer fixes the file in one go. Only the form's own
shape is checked here; whether the NIK agrees with the birth date is the verifier's job.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from capture_station.errors import ApplicationDataError
from lebong_contract.api.v1 import types_pb2

FIELDS = ("full_name", "nik", "date_of_birth", "place_of_birth", "sex", "passport_type")
_SEX = {"male": types_pb2.SEX_MALE, "female": types_pb2.SEX_FEMALE}
_PASSPORT = {"ordinary": types_pb2.PASSPORT_TYPE_ORDINARY,
             "electronic": types_pb2.PASSPORT_TYPE_ELECTRONIC}
_KIND = {"first": types_pb2.APPLICATION_KIND_FIRST,
         "renewal": types_pb2.APPLICATION_KIND_RENEWAL}
OPTIONAL = ("parents_consent", "application_kind")
_NIK = re.compile(r"^\d{16}$")


def parse_application(data: Any, *, today: dt.date | None = None) -> types_pb2.ApplicationData:
    """Validate a decoded JSON object; `ApplicationDataError` lists every problem."""
    if not isinstance(data, dict):
        raise ApplicationDataError("application JSON must be an object with fields "
                                   + ", ".join(FIELDS))
    problems: list[str] = []
    problems += [f"missing field {name!r}" for name in FIELDS if name not in data]
    problems += [f"unknown field {name!r}" for name in data
                 if name not in FIELDS and name not in OPTIONAL]
    consent = data.get("parents_consent", False)
    if not isinstance(consent, bool):
        problems.append("parents_consent must be true or false")
    text: dict[str, str] = {}
    for name in FIELDS:
        value = data.get(name)
        if name not in data:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} must be a non-empty string")
        else:
            text[name] = value.strip()

    birth: dt.date | None = None
    if "nik" in text and not _NIK.match(text["nik"]):
        problems.append("nik must be exactly 16 digits")
    if "date_of_birth" in text:
        try:
            birth = dt.date.fromisoformat(text["date_of_birth"])
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text["date_of_birth"]):
                raise ValueError
        except ValueError:
            problems.append("date_of_birth must be a date written YYYY-MM-DD")
        else:
            if birth > (today or dt.date.today()):
                problems.append("date_of_birth is in the future")
    if "sex" in text and text["sex"].lower() not in _SEX:
        problems.append("sex must be 'male' or 'female'")
    if "passport_type" in text and text["passport_type"].lower() not in _PASSPORT:
        problems.append("passport_type must be 'ordinary' or 'electronic'")
    kind = data.get("application_kind", "first")
    if not isinstance(kind, str) or kind.lower() not in _KIND:
        problems.append("application_kind must be 'first' or 'renewal'")
    if problems:
        raise ApplicationDataError("invalid application: " + "; ".join(problems))

    assert birth is not None
    return types_pb2.ApplicationData(
        full_name=text["full_name"], nik=text["nik"],
        date_of_birth=types_pb2.Date(year=birth.year, month=birth.month, day=birth.day),
        place_of_birth=text["place_of_birth"], sex=_SEX[text["sex"].lower()],
        passport_type=_PASSPORT[text["passport_type"].lower()], parents_consent=consent,
        application_kind=_KIND[kind.lower()])


def load_application(path: str | Path) -> types_pb2.ApplicationData:
    """Read and validate an application JSON file."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ApplicationDataError(f"cannot read application file {str(path)!r}: {exc}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApplicationDataError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return parse_application(data)
    except ApplicationDataError as exc:
        raise ApplicationDataError(f"{path}: {exc}") from exc
