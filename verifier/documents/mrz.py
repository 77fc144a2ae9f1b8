"""ICAO 9303 machine-readable zones: check digits and field parsing for TD1 (ID cards,
3 x 30), TD2 (2 x 36), TD3 (passports, 2 x 44) and the visa formats MRV-A and MRV-B.

A wrong check digit is reported with its field kept as read, with one exception
(`correct_by_check_digits`): where a field that allows both letters and digits fails its check
digit, OCR look-alikes (O/0, I/1) are swapped when exactly one smallest set of swaps makes its
check digit and the composite pass; each changed character is listed in `MrzData.corrections`.
A mod-10 check digit passes one wrong candidate in ten, so such a correction is a likelier
reading, not a proof: on simulated O/0 and I/1 misreads of TD3 numbers, 1-4 % of the
corrections made were wrong (more when several glyphs were misread).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
FORMATS = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}
_WEIGHTS = (7, 3, 1)


def check_digit(field: str) -> str:
    """ICAO 9303 part 3, 4.9: digits count as themselves, A-Z as 10-35, '<' as 0."""
    total = 0
    for i, ch in enumerate(field):
        if "0" <= ch <= "9":  # not str.isdigit: "²" is a digit to it, and int() refuses it
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - ord("A") + 10
        else:
            value = 0
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


@dataclass(frozen=True)
class CheckDigit:
    name: str  # "document_number", "birth_date", "expiry_date", "personal_number", "composite"
    expected: str  # computed from the field
    printed: str

    @property
    def ok(self) -> bool:
        return self.expected == self.printed


@dataclass(frozen=True)
class Correction:
    """A character changed from the OCR's reading because the check digits chose it."""
    field: str  # "document_number", "personal_number" or "optional_data"
    line: int  # 0-based
    position: int  # 0-based within the line
    read: str
    corrected: str


@dataclass(frozen=True)
class MrzData:
    format: str  # TD1 / TD2 / TD3, or MRVA / MRVB for visas
    lines: tuple[str, ...]
    document_type: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: str  # YYMMDD as printed
    sex: str  # M / F / <
    expiry_date: str  # YYMMDD as printed
    personal_number: str  # optional data ("" when empty)
    checks: tuple[CheckDigit, ...]
    corrections: tuple[Correction, ...] = ()  # by `correct_by_check_digits`; () as read

    @property
    def check_digits_ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _names(field: str) -> tuple[str, str]:
    surname, _, given = field.partition("<<")
    return (surname.replace("<", " ").strip(), given.replace("<", " ").strip())


def _clean(field: str) -> str:
    return field.replace("<", " ").strip()


def parse_mrz(lines: tuple[str, ...] | list[str]) -> MrzData:
    """Parse MRZ lines of one of the three sizes; raises ValueError on any other shape."""
    lines = tuple(lines)
    shape = (len(lines), len(lines[0]) if lines else 0)
    fmt = next((name for name, s in FORMATS.items() if s == shape), None)
    if fmt is None or any(len(line) != shape[1] for line in lines):
        raise ValueError(f"MRZ of {len(lines)} lines of {[len(x) for x in lines]} characters "
                         "is not TD1 (3x30), TD2 (2x36) or TD3 (2x44)")
    bad = sorted({ch for line in lines for ch in line if ch not in MRZ_ALPHABET})
    if bad:
        raise ValueError(f"MRZ contains characters outside A-Z, 0-9 and '<': {''.join(bad)}")
    if fmt == "TD1":
        l1, l2, l3 = lines
        number, number_cd, optional1 = l1[5:14], l1[14], l1[15:30]
        birth, birth_cd, sex, expiry, expiry_cd = l2[0:6], l2[6], l2[7], l2[8:14], l2[14]
        nationality, optional2, composite_cd = l2[15:18], l2[18:29], l2[29]
        surname, given = _names(l3)
        composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
        checks = (CheckDigit("document_number", check_digit(number), number_cd),
                  CheckDigit("birth_date", check_digit(birth), birth_cd),
                  CheckDigit("expiry_date", check_digit(expiry), expiry_cd),
                  CheckDigit("composite", check_digit(composite), composite_cd))
        personal = _clean(optional1 + optional2)
        doc_type, state = l1[0:2], l1[2:5]
    else:
        l1, l2 = lines
        doc_type, state = l1[0:2], l1[2:5]
        surname, given = _names(l1[5:])
        number, number_cd, nationality = l2[0:9], l2[9], l2[10:13]
        birth, birth_cd, sex, expiry, expiry_cd = l2[13:19], l2[19], l2[20], l2[21:27], l2[27]
        checks_list = [CheckDigit("document_number", check_digit(number), number_cd),
                       CheckDigit("birth_date", check_digit(birth), birth_cd),
                       CheckDigit("expiry_date", check_digit(expiry), expiry_cd)]
        if doc_type.startswith("V"):
            # Visas (MRV-A 2x44, MRV-B 2x36): optional data without check digits.
            fmt = "MRVA" if fmt == "TD3" else "MRVB"
            personal = _clean(l2[28:])
        elif fmt == "TD3":
            personal_field, personal_cd, composite_cd = l2[28:42], l2[42], l2[43]
            # An empty personal number may carry '<' instead of 0 as its check digit.
            expected = "<" if personal_cd == "<" and personal_field == "<" * 14 \
                else check_digit(personal_field)
            checks_list.append(CheckDigit("personal_number", expected, personal_cd))
            composite = l2[0:10] + l2[13:20] + l2[21:43]
            personal = _clean(personal_field)
        else:
            personal_field, composite_cd = l2[28:35], l2[35]
            composite = l2[0:10] + l2[13:20] + l2[21:35]
            personal = _clean(personal_field)
        if not doc_type.startswith("V"):
            checks_list.append(CheckDigit("composite", check_digit(composite), composite_cd))
        checks = tuple(checks_list)
    return MrzData(format=fmt, lines=lines, document_type=_clean(doc_type),
                   issuing_state=_clean(state), document_number=_clean(number),
                   surname=surname, given_names=given, nationality=_clean(nationality),
                   birth_date=birth, sex=sex, expiry_date=expiry, personal_number=personal,
                   checks=checks)


# OCR-B look-alikes the reader confuses in fields allowing letters and digits (the only ones
# seen on the real MRZ set: 0 read as O/Q/D, I and 1 both ways). Every further pair (Z/2, S/5,
# B/8) adds candidates, and a mod-10 check digit lets one wrong candidate in ten pass; G and 6
# differ by 10, which no check digit can tell apart.
_LOOKALIKES = {"O": "0", "Q": "0", "D": "0", "0": "O", "I": "1", "1": "I"}
_MAX_CANDIDATES = 1024


class _Field(NamedTuple):
    """A field allowing letters and digits under a check digit."""
    name: str
    line: int
    start: int
    end: int
    check: str | None  # its own check digit; None where only the composite covers it


_NUMBER = _Field("document_number", 1, 0, 9, "document_number")  # all but TD1
_ALPHANUMERIC = {
    "TD1": (_Field("document_number", 0, 5, 14, "document_number"),
            _Field("optional_data", 0, 15, 30, None), _Field("optional_data", 1, 18, 29, None)),
    "TD2": (_NUMBER, _Field("optional_data", 1, 28, 35, None)),
    "TD3": (_NUMBER, _Field("personal_number", 1, 28, 42, "personal_number")),
    "MRVA": (_NUMBER,),  # visas: optional data without any check digit
    "MRVB": (_NUMBER,),
}
_Cell = tuple[int, int]  # (line, position)


def _unique_fewest(units: list[tuple[_Cell, ...]], passes: Callable[[tuple[_Cell, ...]], bool]
                   ) -> tuple[tuple[_Cell, ...] | None, bool]:
    """The one smallest set of units whose swap passes, searching sets by size while the
    next size fits in `_MAX_CANDIDATES`; also whether any set passed (two or more of the
    smallest passing size: ambiguous, None)."""
    tried = 0
    for size in range(1, len(units) + 1):
        subsets = list(itertools.combinations(units, size))
        tried += len(subsets)
        if tried > _MAX_CANDIDATES:
            return None, False
        hits = [sum(s, ()) for s in subsets if passes(sum(s, ()))]
        if hits:
            return (hits[0] if len(hits) == 1 else None), True
    return None, False


def correct_by_check_digits(data: MrzData) -> MrzData:
    """`data` with OCR look-alikes swapped in the letter-and-digit fields whose check digit
    fails (or, for optional data under the composite only, whose composite fails), when
    exactly one smallest swap makes every such field's check digit and the composite pass.
    Fields whose check digit passes are never touched; without a unique answer `data` is
    returned as read.

    Swaps go by glyph first (every O of a field, say), since one print read by one OCR
    confuses a glyph the same way throughout; only when no such swap passes at all are single
    characters tried. The composite adds no evidence about a lone field (its weights line up
    with the field's own), but it refuses corrections while another field is still wrong."""
    failed = {c.name for c in data.checks if not c.ok}
    fields = [f for f in _ALPHANUMERIC[data.format]
              if f.check in failed or (f.check is None and "composite" in failed)]
    if not fields:
        return data
    required = {f.check for f in fields if f.check} | ({"composite"}
                                                       & {c.name for c in data.checks})
    field_of = {(f.line, i): f for f in fields for i in range(f.start, f.end)
                if data.lines[f.line][i] in _LOOKALIKES}

    def swapped(cells: tuple[_Cell, ...]) -> tuple[str, ...]:
        chars = [list(line) for line in data.lines]
        for line, i in cells:
            chars[line][i] = _LOOKALIKES[chars[line][i]]
        return tuple("".join(line) for line in chars)

    def passes(cells: tuple[_Cell, ...]) -> bool:
        return all(c.ok for c in parse_mrz(swapped(cells)).checks if c.name in required)

    glyphs: dict[tuple[_Field, str], list[_Cell]] = {}
    for (line, i), field in field_of.items():
        glyphs.setdefault((field, data.lines[line][i]), []).append((line, i))
    cells, any_passed = _unique_fewest([tuple(g) for g in glyphs.values()], passes)
    if cells is None and not any_passed:
        cells, _ = _unique_fewest([(cell,) for cell in field_of], passes)
    if cells is None:
        return data
    corrections = tuple(Correction(field_of[(line, i)].name, line, i, data.lines[line][i],
                                   _LOOKALIKES[data.lines[line][i]])
                        for line, i in sorted(cells))
    return replace(parse_mrz(swapped(cells)), corrections=corrections)


def mrz_date(yymmdd: str, *, future: bool, today: dt.date | None = None) -> dt.date | None:
    """A printed YYMMDD as a date. Expiry dates (`future`) lie within 20 years ahead; birth
    dates are never after today."""
    if len(yymmdd) != 6 or not (yymmdd.isascii() and yymmdd.isdigit()):
        return None
    today = today or dt.date.today()
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    century = 2000 if (2000 + yy <= today.year + (20 if future else 0)) else 1900
    try:
        return dt.date(century + yy, month, day)
    except ValueError:
        return None


def td3_lines(document_type: str, issuing_state: str, surname: str, given_names: str,
              document_number: str, nationality: str, birth_date: dt.date, sex: str,
              expiry_date: dt.date, personal_number: str = "") -> tuple[str, str]:
    """The two TD3 lines for these fields, with correct check digits (for the generator)."""
    def field(value: str, width: int) -> str:
        value = "<".join(value.upper().split())
        return (value + "<" * width)[:width]

    names = field(surname, 39) if not given_names else \
        (field(surname, 39).rstrip("<") + "<<" + "<".join(given_names.upper().split()))
    line1 = (field(document_type, 2) + field(issuing_state, 3) + names + "<" * 39)[:44]
    number = field(document_number, 9)
    birth = birth_date.strftime("%y%m%d")
    expiry = expiry_date.strftime("%y%m%d")
    personal = field(personal_number, 14)
    personal_cd = check_digit(personal) if personal_number else "<"
    body = (number + check_digit(number) + field(nationality, 3) + birth + check_digit(birth)
            + sex + expiry + check_digit(expiry) + personal + personal_cd)
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1, body + check_digit(composite)
