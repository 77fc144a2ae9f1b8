import datetime as dt

import pytest

from verifier.documents.words import (date_to_words, number_to_words, ordinal_to_number,
                                      words_to_date, words_to_number)


def test_the_issue_example() -> None:
    assert words_to_date("tujuh belas Agustus seribu sembilan ratus sembilan puluh") == \
        dt.date(1990, 8, 17)
    assert words_to_date("tujuh belas Agustus tahun seribu sembilan ratus sembilan puluh") == \
        dt.date(1990, 8, 17)


@pytest.mark.parametrize(("text", "number"), [
    ("nol", 0), ("sepuluh", 10), ("sebelas", 11), ("dua belas", 12), ("sembilan belas", 19),
    ("dua puluh", 20), ("dua puluh satu", 21), ("seratus", 100), ("seratus satu", 101),
    ("dua ratus lima puluh", 250), ("seribu", 1000), ("dua ribu", 2000),
    ("dua ribu dua puluh empat", 2024), ("seribu sembilan ratus empat puluh lima", 1945),
    ("seratus dua puluh tiga ribu empat ratus lima puluh enam", 123456),
])
def test_numbers_in_words(text: str, number: int) -> None:
    assert words_to_number(text) == number
    assert number_to_words(number) == text


def test_every_number_and_date_round_trips() -> None:
    for n in range(0, 3001):
        assert words_to_number(number_to_words(n)) == n, n
    day = dt.date(1940, 1, 1)
    while day < dt.date(2026, 1, 1):
        assert words_to_date(date_to_words(day)) == day
        day += dt.timedelta(days=97)


def test_ocr_slips_and_colon_specks_are_tolerated() -> None:
    assert words_to_date("1 tujuh belas Agustvs | seribu sembllan ratus sembilan puluh |") == \
        dt.date(1990, 8, 17)


def test_non_dates_give_none_not_errors() -> None:
    assert words_to_date("") is None
    assert words_to_date("hari ini cerah") is None
    assert words_to_date("tiga puluh dua Januari dua ribu") is None  # 32 January
    assert words_to_number("tujuh kucing") is None


@pytest.mark.parametrize(("text", "number"), [
    ("kesatu", 1), ("pertama", 1), ("kedua", 2), ("ketiga", 3), ("kelima", 5), ("kesebelas", 11),
    ("ke-4", 4), ("ke 5", 5), ("satu", 1), ("1 dua", 2), ("3", 3),
])
def test_child_order(text: str, number: int) -> None:
    assert ordinal_to_number(text) == number
