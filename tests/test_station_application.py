"""Application JSON and document arguments are validated before a session starts."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from capture_station.application import load_application, parse_application
from capture_station.documents import parse_document_arg
from capture_station.errors import ApplicationDataError, DocumentError
from lebong_contract.api.v1 import types_pb2

GOOD = {"full_name": "Siti Aminah", "nik": "1707015708900001", "date_of_birth": "1990-08-17",
        "place_of_birth": "Muara Aman", "sex": "female", "passport_type": "electronic"}


def test_valid_application(tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json.dumps(GOOD))
    app = load_application(path)
    assert app.full_name == "Siti Aminah" and app.nik == "1707015708900001"
    assert (app.date_of_birth.year, app.date_of_birth.month, app.date_of_birth.day) == (1990, 8,
                                                                                          17)
    assert app.sex == types_pb2.SEX_FEMALE
    assert app.passport_type == types_pb2.PASSPORT_TYPE_ELECTRONIC


@pytest.mark.parametrize("change, message", [
    ({"nik": "12345"}, "nik must be exactly 16 digits"),
    ({"date_of_birth": "17-08-1990"}, "YYYY-MM-DD"),
    ({"date_of_birth": "1990-02-30"}, "YYYY-MM-DD"),
    ({"date_of_birth": "2999-01-01"}, "in the future"),
    ({"sex": "x"}, "'male' or 'female'"),
    ({"passport_type": "diplomatic"}, "'ordinary' or 'electronic'"),
    ({"full_name": "  "}, "full_name must be a non-empty string"),
    ({"full_name": 7}, "full_name must be a non-empty string"),
    ({"nama": "typo"}, "unknown field 'nama'"),
])
def test_invalid_fields(change, message):
    with pytest.raises(ApplicationDataError, match=message):
        parse_application({**GOOD, **change}, today=dt.date(2025, 1, 1))


def test_every_problem_is_reported_at_once():
    with pytest.raises(ApplicationDataError) as info:
        parse_application({"nik": "1", "sex": "x"})
    text = str(info.value)
    for part in ("missing field 'full_name'", "missing field 'passport_type'", "16 digits",
                 "'male' or 'female'"):
        assert part in text


def test_unreadable_application_files(tmp_path):
    with pytest.raises(ApplicationDataError, match="cannot read"):
        load_application(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ApplicationDataError, match="not valid JSON"):
        load_application(bad)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ApplicationDataError, match="must be an object"):
        load_application(listed)


def test_document_arguments(tmp_path):
    scan = tmp_path / "ktp.jpg"
    scan.write_bytes(b"jpeg")
    doc = parse_document_arg(f"KTP={scan}")
    assert doc.kind == types_pb2.DOCUMENT_KIND_KTP and doc.image == b"jpeg"
    assert parse_document_arg(f"akta-kelahiran={scan}").kind_name == "akta_kelahiran"
    with pytest.raises(DocumentError, match="unknown document kind 'sim'.*old_passport"):
        parse_document_arg(f"sim={scan}")
    with pytest.raises(DocumentError, match="KIND=PATH"):
        parse_document_arg(str(scan))
    with pytest.raises(DocumentError, match="cannot read"):
        parse_document_arg(f"ktp={tmp_path / 'missing.jpg'}")


def test_parents_consent_is_optional_and_must_be_boolean() -> None:
    from capture_station.application import parse_application
    from capture_station.errors import ApplicationDataError

    form = {"full_name": "ANAK", "nik": "1707015005150001", "date_of_birth": "2015-05-10",
            "place_of_birth": "MUARA AMAN", "sex": "female", "passport_type": "ordinary"}
    assert parse_application(form).parents_consent is False
    assert parse_application({**form, "parents_consent": True}).parents_consent is True
    with pytest.raises(ApplicationDataError, match="parents_consent must be true or false"):
        parse_application({**form, "parents_consent": "yes"})
