import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.documents.mrz import (FORMATS, Correction, check_digit, correct_by_check_digits,
                                   mrz_date, parse_mrz, td3_lines)
from verifier.documents.passport import mrz_fields

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


# Check-digit corrections of OCR look-alikes (O/0, I/1) in letter-and-digit fields.

def _passport(number: str, personal: str = "") -> tuple[str, str]:
    return td3_lines("P", "IDN", "SETIAWAN", "MIRA", number, "IDN", dt.date(1986, 2, 18), "F",
                     dt.date(2031, 1, 9), personal)


def _misread(lines: tuple[str, ...], line: int, position: int, char: str) -> tuple[str, ...]:
    chars = list(lines[line])
    chars[position] = char
    return tuple("".join(chars) if i == line else x for i, x in enumerate(lines))


def test_an_o_read_for_0_in_a_document_number_is_corrected_and_recorded() -> None:
    printed = _passport("B0123456")
    read = parse_mrz(_misread(printed, 1, 1, "O"))
    assert not read.check_digits_ok and read.document_number == "BO123456"
    corrected = correct_by_check_digits(read)
    assert corrected.lines == printed and corrected.check_digits_ok
    assert corrected.document_number == "B0123456"
    assert corrected.corrections == (Correction("document_number", 1, 1, "O", "0"),)


def test_every_zero_read_as_o_is_corrected_as_one_glyph() -> None:
    # Three zeros read "OOO": one O alone (the one weighted 1) would pass the check digit too.
    printed = _passport("S0002068")
    read = _misread(_misread(_misread(printed, 1, 1, "O"), 1, 2, "O"), 1, 3, "O")
    assert check_digit("SO0O2068<") == check_digit("S0002068<")
    corrected = correct_by_check_digits(parse_mrz(read))
    assert corrected.lines == printed
    assert [c.position for c in corrected.corrections] == [1, 2, 3]


def test_two_equally_small_corrections_leave_the_field_as_read() -> None:
    # X004I608I with its 0 at 6 read as O: turning that O into 0 passes, and so does turning
    # both I into 1; nothing says which, so the reading stays as read and fails.
    printed = _passport("X004I608I")
    read = parse_mrz(_misread(printed, 1, 6, "O"))
    assert check_digit("X00416O81") == check_digit("X004I608I") == printed[1][9]
    result = correct_by_check_digits(read)
    assert result == read and result.corrections == ()
    assert not result.check_digits_ok


def test_a_field_whose_check_digit_passes_is_never_changed() -> None:
    # The number holds both O and 0 and passes; the birth date's check digit is misread, so
    # the composite fails too. Neither is a reason to touch the number.
    printed = _passport("O0O12I1")
    read = parse_mrz(_misread(printed, 1, 19, str((int(printed[1][19]) + 1) % 10)))
    failed = {c.name for c in read.checks if not c.ok}
    assert failed == {"birth_date", "composite"}
    assert correct_by_check_digits(read) == read


def test_a_correction_needs_the_composite_to_agree() -> None:
    printed = _passport("B0123456")
    read = parse_mrz(_misread(printed, 1, 1, "O"))
    assert correct_by_check_digits(read).check_digits_ok  # alone: corrected
    # The same misread with a wrong birth-date check digit: the number's own check digit
    # would pass after O -> 0, but the composite cannot, so nothing is changed.
    both = parse_mrz(_misread(read.lines, 1, 19, str((int(printed[1][19]) + 1) % 10)))
    assert check_digit("B0123456<") == both.lines[1][9]
    assert correct_by_check_digits(both) == both


def test_optional_data_under_the_composite_only_is_corrected() -> None:
    # TD1's first optional field has no check digit of its own; the composite chooses.
    l1 = "I<UTOD231458907" + "AB1I23" + "<" * 9
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    printed = (l1, l2 + check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]), TD1[2])
    assert parse_mrz(printed).check_digits_ok
    read = parse_mrz(_misread(printed, 0, 18, "1"))  # the I of AB1I23 read as 1
    assert [c.name for c in read.checks if not c.ok] == ["composite"]
    corrected = correct_by_check_digits(read)
    assert corrected.lines == printed
    assert corrected.corrections == (Correction("optional_data", 0, 18, "1", "I"),)


def test_the_read_fields_say_which_value_the_check_digits_chose() -> None:
    printed = _passport("B0123456")
    fields = {f.name: f for f in mrz_fields(
        correct_by_check_digits(parse_mrz(_misread(printed, 1, 1, "O"))), 0.9)}
    assert fields["document_number"].value == "B0123456"
    assert fields["document_number"].corrected_by == "check digits"
    assert {n for n, f in fields.items() if f.corrected_by} == {"document_number"}
    # As read: nothing is marked corrected.
    assert not any(f.corrected_by for f in mrz_fields(parse_mrz(printed), 0.9))


_LINES = st.sampled_from(sorted(FORMATS.values())).flatmap(
    lambda shape: st.lists(st.text(st.sampled_from("0O1IDQ<AB" + "0123456789"),
                                   min_size=shape[1], max_size=shape[1]),
                           min_size=shape[0], max_size=shape[0]))


@settings(max_examples=150, deadline=None)
@given(_LINES)
def test_corrections_swap_only_look_alikes_in_failing_fields(lines: list[str]) -> None:
    read = parse_mrz(lines)
    result = correct_by_check_digits(read)
    if not result.corrections:
        assert result == read
        return
    ok_before = {c.name for c in read.checks if c.ok}
    assert {c.field for c in result.corrections} & ok_before == set()
    assert all(c.ok for c in result.checks if c.name == "composite")
    changed = [(i, j) for i, (a, b) in enumerate(zip(read.lines, result.lines))
               for j, (x, y) in enumerate(zip(a, b)) if x != y]
    assert changed == [(c.line, c.position) for c in result.corrections]
    assert all({c.read, c.corrected} in ({"O", "0"}, {"Q", "0"}, {"D", "0"}, {"I", "1"})
               for c in result.corrections)
