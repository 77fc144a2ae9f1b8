"""Indonesian numbers and dates written in words, both ways.

"tujuh belas Agustus seribu sembilan ratus sembilan puluh" -> 1990-08-17. Parsing tolerates
OCR slips in a word (each word snaps to the closest number word when clearly closest).
"""

from __future__ import annotations

import datetime as dt

from verifier.documents.normalise import similarity

UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
         "sembilan")
MONTHS = ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus",
          "september", "oktober", "november", "desember")
_SPECIAL = {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000}
_MULTIPLIERS = {"belas": 10, "puluh": 10, "ratus": 100, "ribu": 1000, "juta": 1_000_000}
_VOCABULARY = (*UNITS, *_SPECIAL, *_MULTIPLIERS)
# Ordinals: "kesatu" or "pertama" is first; "ke" + a number otherwise.
_FIRST = ("pertama", "kesatu")


def number_to_words(n: int) -> str:
    if n < 0:
        raise ValueError("negative numbers are not written on documents")
    if n < 10:
        return UNITS[n]
    if n == 10:
        return "sepuluh"
    if n == 11:
        return "sebelas"
    if n < 20:
        return f"{UNITS[n - 10]} belas"
    for size, word, single in ((1_000_000, "juta", "satu juta"), (1000, "ribu", "seribu"),
                               (100, "ratus", "seratus"), (10, "puluh", None)):
        if n >= size:
            head, rest = divmod(n, size)
            text = single if head == 1 and single else f"{number_to_words(head)} {word}"
            return text if rest == 0 else f"{text} {number_to_words(rest)}"
    raise AssertionError("unreachable")


def date_to_words(date: dt.date) -> str:
    return (f"{number_to_words(date.day)} {MONTHS[date.month - 1].capitalize()} "
            f"{number_to_words(date.year)}")


def _snap_word(word: str) -> str | None:
    word = word.lower().strip(".,;:")
    if word in _VOCABULARY:
        return word
    best = max(_VOCABULARY, key=lambda v: similarity(word, v))
    return best if similarity(word, best) >= 0.75 else None


def words_to_number(text: str) -> int | None:
    """"seribu sembilan ratus sembilan puluh" -> 1990; None when a word is not a number."""
    total, current = 0, 0
    words = text.split()
    if not words:
        return None
    for raw in words:
        word = _snap_word(raw)
        if word is None:
            return None
        if word in UNITS:
            current += UNITS.index(word)
        elif word in _SPECIAL:
            value = _SPECIAL[word]
            if value >= 100:
                total += value
            else:
                current += value
        elif word == "belas":
            current = (current or 1) + 10
        elif word == "puluh":
            current = (current or 1) * 10
        elif word == "ratus":
            total += (current or 1) * 100
            current = 0
        else:  # ribu, juta
            total = (total + (current or 1)) * _MULTIPLIERS[word]
            current = 0
    return total + current


def words_to_date(text: str) -> dt.date | None:
    """A date written "<day in words> <month name> <year in words>", "tahun" optional."""
    # Tokens without letters are OCR's version of the colon or a rule ("1", "|").
    words = [w for w in text.replace(",", " ").split()
             if w.lower() != "tahun" and any(ch.isalpha() for ch in w)]
    for i, raw in enumerate(words):
        month = max(MONTHS, key=lambda m: similarity(raw.lower(), m))
        if similarity(raw.lower(), month) < 0.75:
            continue
        day = words_to_number(" ".join(words[:i]))
        year = words_to_number(" ".join(words[i + 1:]))
        if day is None or year is None:
            return None
        try:
            return dt.date(year, MONTHS.index(month) + 1, day)
        except (ValueError, OverflowError):  # "juta juta" days overflow C's int
            return None
    return None


def ordinal_to_number(text: str) -> int | None:
    """"kesatu", "pertama", "kedua", "ke-3", "ke tiga", "3" -> the number."""
    word = text.lower().strip(" .,:;")
    if word.startswith(("ke-", "ke ")):
        word = word[3:].strip()
    tokens = word.split()
    lettered = [t for t in tokens if any(ch.isalpha() for ch in t)]
    word = " ".join(lettered or tokens[-1:])
    if any(similarity(word, f) >= 0.8 for f in _FIRST):
        return 1
    if word.isascii() and word.isdigit():  # isdigit() alone admits "²", which int() refuses
        # No child is the thousandth (and int() refuses 4,300 digits).
        return int(word) if len(word) <= 3 else None
    if word.startswith("ke"):  # "kelima": no number word starts with "ke"
        word = word[2:]
    return words_to_number(word)
