"""Several reads of one field -> one value and a confidence.

Tesseract reads a field twice (with the page, and alone restricted to the field's alphabet);
PP-OCR's recogniser reads it a third time. The two engines are different networks trained on
different data, so their slips rarely coincide: the engines agreeing on the whole value is
strong evidence whatever each said of itself. Tesseract's two reads share its slips (a 5
read as 6 in one is often a 6 in the other), so they count as one engine's vote. Where the
engines disagree the value stays in doubt: the more accurate engine's read (listed first by
the caller) is kept, with a low confidence that sends it to the officer. Used for the fields
where one wrong digit matters: NIK, birth date, RT/RW, expiry. Other fields on the card are
never used to choose (a NIK that disagrees with the birth date is a fraud signal the
consistency checks must see).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from verifier.documents.nik import NIK_LENGTH, decode_nik
from verifier.documents.textrec import RecognisedLine

# Confidence when two reads agree on the whole value (both engines, or Tesseract's two reads
# with no other engine's read against them), and when all three do.
_TWO_AGREE = 0.9
_THREE_AGREE = 0.97
# A read another engine contradicts (or none confirms) keeps this share of its engine's
# confidence, and a value that fails the field's validity check (an invalid NIK) half of
# what it would have; an incomplete read (too few digits) both.
_ALONE_FACTOR = 0.6
_INVALID_FACTOR = 0.5
# The NIK's typeface read by a recogniser that knows letters: its 1 has a foot like an l.
_NIK_LOOKALIKES = str.maketrans("lI|!iOoDQSsZzbq", "111110000552269")


@dataclass(frozen=True)
class FieldRead:
    source: str  # "recogniser", "reread" or "page"
    engine: str  # "pp-ocr" or "tesseract"
    value: str  # normalised ("" when nothing was read)
    complete: bool  # the value has the field's form (16 digits, a real date, ...)
    confidence: float  # the engine's own, 0-1


@dataclass(frozen=True)
class Vote:
    value: str
    confidence: float
    agreeing: tuple[str, ...]  # the sources that read exactly this value


def vote(reads: Sequence[FieldRead], valid: Callable[[str], bool] = lambda _: True
         ) -> Vote | None:
    """The complete value the most engines read; ties go to a valid value, then to the
    earlier read in `reads` (callers list the more accurate engine first). Without any
    complete read, the first non-empty one, with little confidence."""
    complete = [r for r in reads if r.complete]
    if not complete:
        partial = next((r for r in reads if r.value), None)
        if partial is None:
            return None
        return Vote(partial.value, partial.confidence * _ALONE_FACTOR * _INVALID_FACTOR,
                    (partial.source,))
    engines: dict[str, set[str]] = {}
    for r in complete:
        engines.setdefault(r.value, set()).add(r.engine)
    first = {r.value: -i for i, r in reversed(list(enumerate(complete)))}
    value = max(engines, key=lambda v: (len(engines[v]), valid(v), first[v]))
    agreeing = [r for r in complete if r.value == value]
    contradicted = any(r.value != value for r in complete)
    if len(agreeing) >= 3:
        confidence = max(_THREE_AGREE, *(r.confidence for r in agreeing))
    elif len(engines[value]) >= 2 or (len(agreeing) == 2 and not contradicted):
        confidence = max(_TWO_AGREE, *(r.confidence for r in agreeing))
    else:
        confidence = max(r.confidence for r in agreeing) * _ALONE_FACTOR
    if not valid(value):
        confidence *= _INVALID_FACTOR
    return Vote(value, confidence, tuple(r.source for r in agreeing))


def recognised_nik(line: RecognisedLine) -> FieldRead:
    """The NIK in the recogniser's read of the line right of the "NIK" label: the longest
    run of digits (spaces allowed; letters the NIK's typeface is read as, such as l for 1,
    count as their digit). The colon before it comes back as punctuation, a letter or
    sometimes a digit glued to the run, and the card's edge or the photo's frame after it
    as a stray character or two. Of a longer run, the last 16 digits are the NIK unless
    they are no valid NIK and another 16 in the run are (structure only: region code and
    date, never the card's other fields)."""
    runs: list[list[tuple[str, float]]] = [[]]
    for char in line.chars:
        text = char.text.translate(_NIK_LOOKALIKES)
        if text.isdigit() and text.isascii():
            runs[-1].append((text, char.confidence))
        elif not text.isspace() and runs[-1]:
            runs.append([])
    run = max(runs, key=len)
    windows = [run[i:i + NIK_LENGTH] for i in range(len(run) - NIK_LENGTH, -1, -1)]
    run = next((w for w in windows if decode_nik("".join(d for d, _ in w)).valid),
               run[-NIK_LENGTH:])
    return FieldRead("recogniser", "pp-ocr", "".join(d for d, _ in run),
                     len(run) == NIK_LENGTH, min((c for _, c in run), default=0.0))
