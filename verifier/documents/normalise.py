"""Turning OCR text into field values: dates as ISO, upper-case names, enumerations and place
names snapped to their allowed values when the match is unambiguous."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Letters Tesseract returns for digits in a digits-only field.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1",
                                   "i": "1", "|": "1", "!": "1", "Z": "2", "z": "2", "S": "5",
                                   "s": "5", "B": "8", "G": "6", "b": "6", "T": "7", "A": "4",
                                   "g": "9", "q": "9"})
# Strokes OCR returns for the I of a roman numeral, and a word made of them.
_ROMAN_LOOKALIKES = str.maketrans({"|": "I", "l": "I", "!": "I"})
_ROMAN_LIKE = re.compile(r"[IVv|l!]{1,4}")
# What a colon between label and value comes back as.
COLON_LIKE = set(":;!|?#£*—-=_.,'\"`~»«>")


@dataclass(frozen=True)
class Snapped:
    value: str
    score: float  # 0-1 similarity of the read text to `value`


def digits_only(text: str) -> str:
    # 0-9 only: str.isdigit() also holds for "²", which int() refuses.
    return "".join(ch for ch in text.translate(_DIGIT_LOOKALIKES) if "0" <= ch <= "9")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: OCR errors are substitutions, insertions and deletions."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1 - normalised edit distance (1.0: equal)."""
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


def snap(text: str, allowed: Iterable[str], min_score: float = 0.6,
         margin: float = 0.05) -> Snapped | None:
    """The allowed value closest to `text`, when it is close enough and clearly closer than
    the runner-up (otherwise the read is ambiguous and left alone)."""
    key = squash(text)
    scored = sorted(((similarity(key, squash(a)), a) for a in allowed), reverse=True)
    if not scored or scored[0][0] < min_score:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < margin and scored[0][0] < 1.0:
        return None
    return Snapped(scored[0][1], scored[0][0])


def snap_leading(text: str, allowed: Iterable[str], min_score: float = 0.6,
                 margin: float = 0.05) -> Snapped | None:
    """Like `snap`, also trying the text without its trailing words (print or a stamp next
    to the value read into it); the best-scoring reading wins, the longer on a tie."""
    words = text.split()
    best: Snapped | None = None
    allowed = tuple(allowed)
    for k in range(len(words), 0, -1):
        candidate = snap(" ".join(words[:k]), allowed, min_score, margin)
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    return best


def squash(text: str) -> str:
    """Upper-case letters and digits only, for comparing reads with spacing or dots lost."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def roman_numerals_restored(text: str) -> str:
    """Place names end in roman numerals ("TALANG LEAK I", "PAL VIII"); OCR reads a lone I as
    "|", "l" or "!", which `clean_upper` would strip as punctuation. Words after the first
    made only of such strokes (and V) are numerals."""
    words = text.split()
    return " ".join(words[:1] + [w.translate(_ROMAN_LOOKALIKES).upper()
                                 if _ROMAN_LIKE.fullmatch(w) else w for w in words[1:]])


def clean_upper(text: str) -> str:
    """Upper-case, single spaces, no stray punctuation at either end."""
    text = " ".join(text.upper().split())
    return text.strip(" :;|!_-—'\"`~,“”")


_DMY = re.compile(r"(\d{1,2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{4})")


def parse_dmy(text: str) -> dt.date | None:
    """A dd-mm-yyyy date anywhere in `text`, with digit look-alikes repaired."""
    fixed = "".join(ch.translate(_DIGIT_LOOKALIKES) if ch.isalpha() or ch in "|!" else ch
                    for ch in text)
    match = _DMY.search(fixed.replace(" ", ""))
    if match is None:
        digits = digits_only(text)
        if len(digits) != 8:
            return None
        day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    else:
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def strip_leading_colon(words: list[str]) -> list[str]:
    """Drop the label-value colon (or what OCR made of it) from the start of a value."""
    while words and all(ch in COLON_LIKE for ch in words[0]):
        words = words[1:]
    if words:
        # A colon glued to the value: ":JL.", "-JL.", or "1-JL." (the colon read as "1").
        first = re.sub(r"^[1Il|!]?[" + re.escape("".join(COLON_LIKE)) + "“”]+", "", words[0])
        words = ([first] if first else []) + words[1:]
    return words
