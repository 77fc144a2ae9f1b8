import datetime as dt

import pytest

from verifier.documents.mrz import check_digit, mrz_date, parse_mrz, td3_lines

# ICAO 9303 part 4 specimen (Anna Maria Eriksson, Utopia).
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
       "D231458907UTO7408122F1204159<<<<<<<6")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_check_digits_of_the_icao_specimen() -> None:
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("<<<<<<<<<") == "0"


@pytest.mark.parametrize("lines", [TD1, TD2, TD3])
def test_parse_every_format(lines: tuple[str, ...]) -> None:
    data = parse_mrz(lines)
    assert data.check_digits_ok, data.checks
    assert (data.surname, data.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert data.issuing_state == "UTO" and data.nationality == "UTO"
    assert data.birth_date == "740812" and data.sex == "F" and data.expiry_date == "120415"
    assert data.format == {3: "TD1", 2: "TD3" if len(lines[0]) == 44 else "TD2"}[len(lines)]


def test_a_wrong_check_digit_is_reported_not_fixed() -> None:
    line2 = TD3[1][:19] + "3" + TD3[1][20:]  # birth-date check digit 2 -> 3
    data = parse_mrz((TD3[0], line2))
    assert not data.check_digits_ok
    failed = {c.name: (c.printed, c.expected) for c in data.checks if not c.ok}
    assert failed == {"birth_date": ("3", "2"), "composite": ("0", failed["composite"][1])}
    assert data.birth_date == "740812"  # the value itself is kept as printed


def test_generated_lines_have_correct_check_digits() -> None:
    lines = td3_lines("P", "IDN", "SETIAWAN", "MIRA PUTRI", "B1234567", "IDN",
                      dt.date(1986, 2, 18), "F", dt.date(2031, 1, 9))
    data = parse_mrz(lines)
    assert data.check_digits_ok and len(lines[0]) == len(lines[1]) == 44
    assert (data.surname, data.given_names, data.document_number) == (
        "SETIAWAN", "MIRA PUTRI", "B1234567")
    assert mrz_date(data.birth_date, future=False) == dt.date(1986, 2, 18)
    assert mrz_date(data.expiry_date, future=True, today=dt.date(2026, 1, 1)) == dt.date(2031, 1, 9)


@pytest.mark.parametrize(("lines", "message"), [
    ((), "0 lines"),
    ((TD3[0], TD3[1][:-1]), "not TD1"),
    ((TD3[0].replace("A", "a", 1), TD3[1]), "outside"),
    (("P<UTO" + "Ñ" * 39, TD3[1]), "outside"),
])
def test_malformed_zones_raise_value_error_with_the_reason(lines: tuple[str, ...],
                                                          message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mrz(lines)


def test_dates_never_raise() -> None:
    assert mrz_date("741332", future=False) is None
    assert mrz_date("7408", future=False) is None
    assert mrz_date("74O812", future=False) is None
