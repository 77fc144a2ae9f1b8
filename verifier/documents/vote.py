"""Up to three reads of a KTP's NIK line -> one NIK and a confidence.

Tesseract reads the line twice (with the page, and alone with a digits-only whitelist); the
PP-OCR recogniser reads it a third time. The two engines are different networks trained on
different data, so their slips rarely coincide: two reads agreeing on all 16 digits is strong
evidence whatever each engine said of itself, and a read no other read confirms is doubtful.
The birth date and sex printed on the card are not used to choose: a NIK that disagrees
with them is a fraud signal the consistency checks must see.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.documents.nik import NIK_LENGTH, decode_nik
from verifier.documents.textrec import RecognisedLine

# Confidence when two reads agree on all 16 digits, and when three do.
_TWO_AGREE = 0.9
_THREE_AGREE = 0.97
# A read no other read confirms keeps this share of its engine's confidence, and an invalid
# NIK (unknown region, impossible date, serial 0000) half of what it would have.
_ALONE_FACTOR = 0.6
_INVALID_FACTOR = 0.5


@dataclass(frozen=True)
class NikRead:
    source: str  # "recogniser", "reread" or "page"
    digits: str
    confidence: float  # the engine's own, 0-1


@dataclass(frozen=True)
class NikVote:
    digits: str
    confidence: float
    agreeing: tuple[str, ...]  # the sources that read exactly these digits


def recognised_nik(line: RecognisedLine) -> NikRead:
    """The NIK in the recogniser's read of the line right of the "NIK" label: the last run of
    digits (spaces allowed). The colon before it comes back as punctuation, a letter or
    sometimes a digit glued to the run; the NIK ends the line, so of a longer run its last
    16 digits are the NIK."""
    run: list[tuple[str, float]] = []
    for char in line.chars:
        if char.text.isdigit() and char.text.isascii():
            run.append((char.text, char.confidence))
        elif not char.text.isspace():
            run = []
    run = run[-NIK_LENGTH:]
    return NikRead("recogniser", "".join(d for d, _ in run),
                   min((c for _, c in run), default=0.0))


def vote_nik(reads: Sequence[NikRead]) -> NikVote | None:
    """The NIK most reads agree on; ties go to a valid NIK, then to the earlier read in
    `reads` (callers list the more accurate reader first)."""
    complete = [r for r in reads if len(r.digits) == NIK_LENGTH]
    if not complete:
        partial = next((r for r in reads if r.digits), None)
        if partial is None:
            return None
        return NikVote(partial.digits,
                       partial.confidence * _ALONE_FACTOR * _INVALID_FACTOR, (partial.source,))
    votes = collections.Counter(r.digits for r in complete)
    order = {r.digits: -i for i, r in reversed(list(enumerate(complete)))}
    digits = max(votes, key=lambda d: (votes[d], decode_nik(d).valid, order[d]))
    agreeing = [r for r in complete if r.digits == digits]
    if len(agreeing) >= 3:
        confidence = max(_THREE_AGREE, *(r.confidence for r in agreeing))
    elif len(agreeing) == 2:
        confidence = max(_TWO_AGREE, *(r.confidence for r in agreeing))
    else:
        confidence = agreeing[0].confidence * _ALONE_FACTOR
    if not decode_nik(digits).valid:
        confidence *= _INVALID_FACTOR
    return NikVote(digits, confidence, tuple(r.source for r in agreeing))
