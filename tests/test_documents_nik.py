import datetime as dt

import pytest

from verifier.documents.nik import decode_nik, encode_nik
from verifier.documents.regions import PROVINCES, REGENCIES

TODAY = dt.date(2026, 11, 28)


def test_lebong_man_decodes_every_part() -> None:
    info = decode_nik("1707021708900003", today=TODAY)
    assert info.valid and info.problems == ()
    assert (info.province_code, info.regency_code, info.district_code) == ("17", "1707", "170702")
    assert (info.province_name, info.regency_name) == ("BENGKULU", "LEBONG")
    assert info.birth_date == dt.date(1990, 8, 17)
    assert info.sex == "MALE"
    assert info.serial == 3


def test_woman_has_forty_added_to_the_day() -> None:
    info = decode_nik("1702055203050121", today=TODAY)
    assert info.valid
    assert info.sex == "FEMALE"
    assert info.birth_date == dt.date(2005, 3, 12)
    assert info.regency_name == "REJANG LEBONG"


def test_two_digit_year_after_today_is_previous_century() -> None:
    assert decode_nik("3171012712260001", today=TODAY).problems  # 27-12-2026 is in the future
    assert decode_nik("3171012711260001", today=TODAY).birth_date == dt.date(2026, 11, 27)
    assert decode_nik("3171010101270001", today=TODAY).birth_date == dt.date(1927, 1, 1)


def test_all_provinces_and_bengkulu_regencies_listed() -> None:
    assert len(PROVINCES) >= 34
    assert {"11", "17", "31", "36", "51", "65", "76", "82", "91", "92"} <= set(PROVINCES)
    assert set(REGENCIES) == {"1701", "1702", "1703", "1704", "1705", "1706", "1707", "1708",
                              "1709", "1771"}
    # A valid province outside Bengkulu: regency name unknown but not a problem.
    info = decode_nik("3273014101950002", today=TODAY)
    assert info.valid and info.province_name == "JAWA BARAT" and info.regency_name is None


@pytest.mark.parametrize(("nik", "problem"), [
    ("170702170890000", "15 characters"),
    ("17070217089000031", "17 characters"),
    ("17O7021708900003", "other than digits"),
    ("", "0 characters"),
    ("9907021708900003", "unknown province code 99"),
    ("1707021713900003", "does not exist"),  # month 13
    ("1707027208900003", "neither 01-31"),  # day 72
    ("1707020008900003", "neither 01-31"),  # day 00
    ("1707024008900003", "neither 01-31"),  # day 40
    ("1707021708900000", "serial 0000"),
    ("1700021708900003", "regency code 1700"),
    ("1707001708900003", "district code 170700"),
    ("１７０７０２１７０８９０００３", "other than digits"),  # full-width digits
])
def test_bad_niks_are_reported_not_raised(nik: str, problem: str) -> None:
    info = decode_nik(nik, today=TODAY)
    assert not info.valid
    assert any(problem in p for p in info.problems), info.problems


def test_impossible_dates_rejected() -> None:
    assert not decode_nik("1707023102900003", today=TODAY).valid  # 31 February
    assert not decode_nik("1707022902010003", today=TODAY).valid  # 29 February 2001
    assert decode_nik("1707026902000003", today=TODAY).valid  # woman, 29 February 2000
    assert decode_nik("1707023108900003", today=TODAY).valid  # man, 31 August
    assert decode_nik("1707027108900003", today=TODAY).valid  # woman, 31 August


def test_encode_round_trips() -> None:
    for sex in ("MALE", "FEMALE"):
        nik = encode_nik("170702", dt.date(1988, 1, 9), sex, 42)
        info = decode_nik(nik, today=TODAY)
        assert info.valid and info.sex == sex and info.birth_date == dt.date(1988, 1, 9)
        assert info.serial == 42 and info.district_code == "170702"
    with pytest.raises(ValueError):
        encode_nik("1707", dt.date(1988, 1, 9), "MALE", 1)
