"""Finding and reading a machine-readable zone in an image.

The PP-OCR detector finds text lines; the MRZ is the lowest group of two or three long,
thin, left-aligned lines of equal length. Each line is read by Tesseract restricted to the
MRZ alphabet, then fitted to the format's width, and characters are constrained to the class
their position allows (digits in dates and check digits, letters in country codes). Check
digits are then verified; in fields that allow letters and digits, where that class forcing
cannot decide between O and 0 or I and 1, a failing check digit may choose between them
(`correct_by_check_digits`, which lists every character it changed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from verifier.documents.mrz import (FORMATS, MRZ_ALPHABET, MrzData,
                                    correct_by_check_digits, parse_mrz)
from verifier.documents.mrz_cells import CHEVRON_LOOKALIKES, cell_line, ink_of, line_grid
from verifier.documents.ocr import (OcrChar, flatten_background, read_single_line,
                                    read_single_line_chars)
from verifier.documents.textdet import TextBox, detect_text

# An MRZ line is at least this many times wider than tall and spans much of the image.
_MIN_ASPECT = 10.0
_MIN_WIDTH_SHARE = 0.35
# (line, start, end) of the optional-data fields, where fillers are the common content.
_OPTIONAL_FIELDS = {"TD3": ((1, 28, 42),), "TD2": ((1, 28, 35),),
                    "TD1": ((0, 15, 30), (1, 18, 29))}
_TO_DIGIT = str.maketrans("OQDIZSBGLT", "0001258617")
_TO_LETTER = str.maketrans("0125867", "OIZSBGT")


@dataclass(frozen=True)
class MrzReading:
    data: MrzData | None  # None: lines found but not parseable
    raw_lines: tuple[str, ...]
    confidence: float  # 0-1: 0.95 with every check digit right, less with each wrong one
    box_px: tuple[int, int, int, int]  # the zone in the searched image
    problem: str = ""


def _mrz_lines(boxes: tuple[TextBox, ...], width_px: int) -> list[TextBox]:
    long = [b for b in boxes if b.width_px >= _MIN_ASPECT * b.height_px
            and b.width_px >= _MIN_WIDTH_SHARE * width_px]
    long.sort(key=lambda b: b.box_px[1])
    # The lowest run of 2-3 consecutive lines of similar width, close above one another.
    for end in range(len(long), 1, -1):
        group = [long[end - 1]]
        for b in reversed(long[:end - 1]):
            last = group[-1]
            gap = last.box_px[1] - b.box_px[3]
            if abs(b.width_px - last.width_px) < 0.15 * last.width_px \
                    and gap < 2.0 * last.height_px and len(group) < 3:
                group.append(b)
            else:
                break
        if len(group) >= 2:
            return list(reversed(group))
    return []


def _fit_width(line: str, width: int, pad_end: bool) -> str:
    """Tesseract miscounts runs of '<': fix the length at the end of a name line, else at the
    longest run of fillers."""
    line = line[:width + 8]
    if pad_end:
        line = line.rstrip("<")
        return (line + "<" * width)[:width]
    while len(line) != width:
        runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer("<+", line)]
        if not runs:
            return (line + "<" * width)[:width]
        _, start, end = max(runs)
        if len(line) > width:
            line = line[:start] + line[start + 1:]
        else:
            line = line[:end] + "<" + line[end:]
    return line


def _constrain(lines: list[str], fmt: str) -> list[str]:
    """Force digits where the format has only digits and letters where only letters."""
    def fix(line: str, digit_spans: list[tuple[int, int]],
            letter_spans: list[tuple[int, int]]) -> str:
        chars = list(line)
        for a, b in digit_spans:
            for i in range(a, b):
                if chars[i] != "<":
                    chars[i] = chars[i].translate(_TO_DIGIT)
        for a, b in letter_spans:
            for i in range(a, b):
                chars[i] = chars[i].translate(_TO_LETTER)
        return "".join(chars)

    if fmt == "TD3":
        return [fix(lines[0], [], [(0, 44)]),
                fix(lines[1], [(9, 10), (13, 20), (21, 28), (43, 44)], [(10, 13)])]
    if fmt == "TD2":
        return [fix(lines[0], [], [(0, 36)]),
                fix(lines[1], [(9, 10), (13, 20), (21, 28), (35, 36)], [(10, 13)])]
    return [fix(lines[0], [(14, 15)], [(0, 5)]),
            fix(lines[1], [(0, 7), (8, 15), (29, 30)], [(15, 18)]),
            fix(lines[2], [], [(0, 30)])]


def _filler_tail(line: str) -> str:
    """Tesseract reads runs of '<' partly as K (or E, X, R, C): from the first run of
    fillers after which nothing but such look-alikes follows, the rest is all fillers."""
    for match in re.finditer("<<", line):
        tail = line[match.start():]
        if len(tail) >= 6 and set(tail) <= CHEVRON_LOOKALIKES | {"<", "S"}:
            return line[:match.start()] + "<" * len(tail)
    # A lone letter among fillers after the last name is a misread chevron (Indonesian
    # names in the MRZ carry no initials).
    names_end = max((m.end() for m in re.finditer("[A-Z]{2,}", line)), default=0)
    tail = re.sub("(?<=<)[A-Z](?=<)", "<", line[names_end:])
    return line[:names_end] + tail


def _filler_field(line: str, start: int, end: int) -> str:
    """An optional-data field read as fillers and look-alikes only is all fillers."""
    field = line[start:end]
    if field.count("<") >= len(field) // 2 and set(field) <= CHEVRON_LOOKALIKES | {"<", "S"}:
        return line[:start] + "<" * (end - start) + line[end:]
    return line


def _chevrons_by_shape(line: str, cells: list[bool | None]) -> str:
    """Letters OCR confuses with the chevron become '<' where their cell has no stem."""
    return "".join("<" if ch in CHEVRON_LOOKALIKES and cell else ch
                   for ch, cell in zip(line, cells))


def _format_for(raw: list[str]) -> str:
    if len(raw) == 3:
        return "TD1"
    if raw[0].startswith("P"):
        return "TD3"  # passports are TD3; OCR dropping fillers must not make one TD2
    mean = sum(len(x) for x in raw) / len(raw)
    return "TD3" if abs(mean - 44) < abs(mean - 36) else "TD2"


def _char_blobs(grey_line: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The line's ink and its characters as column ranges (fixed-pitch print leaves gaps)."""
    ink = cv2.threshold(grey_line, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    on = np.append(ink.any(axis=0), False)
    blobs, start = [], None
    for x, v in enumerate(on):
        if v and start is None:
            start = x
        elif not v and start is not None:
            blobs.append((start, x))
            start = None
    return ink, blobs


def _filler_cells(grey_line: np.ndarray, width: int) -> list[bool | None]:
    """Per character of an MRZ line: True when it is a filler chevron ('<', no vertical
    stroke at its left), False when it has one; all None unless the line's ink splits into
    exactly `width` characters (then character i is cell i, with no guessing).

    Tesseract's general models read OCR-B's chevron as K, E or X; the shape settles it."""
    ink, blobs = _char_blobs(grey_line)
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return [None] * width
    height = int(rows[-1] - rows[0] + 1)
    # Two characters touching make one blob twice as wide: split such blobs in half.
    while 0 < width - len(blobs) <= 3:
        sizes = [b - a for a, b in blobs]
        widest = int(np.argmax(sizes))
        if sizes[widest] < 1.6 * float(np.median(sizes)):
            break
        a, b = blobs[widest]
        blobs[widest:widest + 1] = [(a, (a + b) // 2), ((a + b) // 2, b)]
    if len(blobs) != width:
        return [None] * width
    cells: list[bool | None] = []
    for x0, x1 in blobs:
        stem = ink[:, x0:x0 + max(2, (x1 - x0) // 6)]
        ys = np.flatnonzero(stem.any(axis=1))
        cells.append(bool((ys[-1] - ys[0] + 1) < 0.55 * height))
    return cells


def _last_digit(grey_line: np.ndarray) -> str | None:
    """The line's last character read alone as a digit: after a long run of chevrons
    Tesseract tends to drop the final check digit."""
    _, blobs = _char_blobs(grey_line)
    if not blobs:
        return None
    a, b = blobs[-1]
    pad = max(2, (b - a) // 2)
    crop = grey_line[:, max(0, a - pad):b + pad]
    text = read_single_line(crop, "0123456789", lang="eng")
    return text[-1] if text and text[-1].isdigit() else None


def _fixed_pitch(text: str, chars: list[OcrChar], crop: np.ndarray, width: int,
                 name_line: bool, data_line: bool) -> str:
    """The line read into its `width` cells by position (`mrz_cells`); where the reads do
    not sit on one grid, fitted to the width by its filler runs and with look-alikes of the
    chevron decided by shape where the ink splits into exactly `width` glyphs."""
    ink = ink_of(crop)
    grid = line_grid(ink, chars, width)
    if grid is not None:
        return cell_line(ink, chars, grid, width, ends_in_digit=data_line)
    return _chevrons_by_shape(_fit_width(text, width, pad_end=name_line),
                              _filler_cells(crop, width))


def _read_zone(grey: np.ndarray, line_boxes: list[tuple[int, int, int, int]]
               ) -> MrzReading:
    raw, crops, reads = [], [], []
    for left, top, right, bottom in line_boxes:
        pad = (bottom - top) // 4
        crop = grey[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
        # Tesseract reads best at a cap height of 30-40 px.
        scale = max(1.0, 48.0 / max(1, crop.shape[0]))
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        crops.append(crop)
        chars = [c for c in read_single_line_chars(crop, MRZ_ALPHABET, lang="eng")
                 if c.text in MRZ_ALPHABET]
        reads.append(chars)
        raw.append("".join(c.text for c in chars))
    zone = (min(b[0] for b in line_boxes), min(b[1] for b in line_boxes),
            max(b[2] for b in line_boxes), max(b[3] for b in line_boxes))
    fmt = _format_for(raw)
    width = FORMATS[fmt][1]
    # Only name lines end in a long filler run that OCR drops or garbles (TD1's third, the
    # others' first); the data lines' fillers sit between check digits.
    name_line = 2 if fmt == "TD1" else 0
    # The second line of every format ends in a check digit.
    data_line = 1
    lines = _constrain([_fixed_pitch(x, chars, crop, width, i == name_line, i == data_line)
                        for i, (x, chars, crop) in enumerate(zip(raw, reads, crops))], fmt)
    if fmt in ("TD2", "TD3") and not lines[data_line][-1].isdigit():
        digit = _last_digit(crops[data_line])
        if digit is not None:
            lines[data_line] = lines[data_line][:-1] + digit
    lines[name_line] = _filler_tail(lines[name_line])
    for row, start, end in _OPTIONAL_FIELDS.get(fmt, ()):
        lines[row] = _filler_field(lines[row], start, end)
    try:
        data = correct_by_check_digits(parse_mrz(lines))
    except ValueError as exc:
        return MrzReading(None, tuple(raw), 0.0, zone, problem=str(exc))
    # Whitelisted Tesseract reads carry no confidence; the check digits are the evidence.
    passed = sum(c.ok for c in data.checks) / max(1, len(data.checks))
    return MrzReading(data, tuple(raw), round(0.95 * passed, 3), zone)


def read_mrz_lines(rgb: np.ndarray, detector: Any) -> MrzReading | None:
    """The MRZ in an upright image, or None when no MRZ-like lines are found."""
    group = _mrz_lines(detect_text(detector, rgb), rgb.shape[1])
    if not group:
        return None
    return _read_zone(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), [b.box_px for b in group])


def read_mrz_band(band_rgb: np.ndarray) -> MrzReading | None:
    """The MRZ in a band known to hold it (the bottom of a rectified data page): its lines
    are the rows of ink, found by projection, no detector needed."""
    # Security print and uneven light would otherwise fill the gaps between the lines.
    grey = flatten_background(band_rgb)
    # The page's edge survives rectification as a thin line that OCR reads as "1".
    margin = max(2, round(0.015 * grey.shape[1]))
    grey[:, :margin], grey[:, -margin:] = 255, 255
    ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    rows = ink.sum(axis=1) > 0.02 * ink.shape[1]
    runs, start = [], None
    for y, on in enumerate(np.append(rows, False)):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= 8:
                runs.append((start, y))
            start = None
    runs = sorted(sorted(runs, key=lambda r: r[1] - r[0], reverse=True)[:3])
    if len(runs) < 2:
        return None
    boxes = []
    for top, bottom in runs:
        cols = np.flatnonzero(ink[top:bottom].any(axis=0))
        boxes.append((int(cols[0]), top, int(cols[-1]) + 1, bottom))
    return _read_zone(grey, boxes)


def find_and_read_mrz(rgb: np.ndarray, detector: Any) -> MrzReading | None:
    """Like `read_mrz_lines`, trying the four quarter turns; the first upright reading whose
    check digits pass wins, else the first reading found."""
    first: MrzReading | None = None
    for turns in range(4):
        image = np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb
        reading = read_mrz_lines(image, detector)
        if reading is None:
            continue
        if reading.data is not None and reading.data.check_digits_ok:
            return reading
        first = first or reading
    return first
