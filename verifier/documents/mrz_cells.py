"""An MRZ line as the fixed-pitch print it is: `width` cells of equal pitch (44, 36 or 30),
one character each.

Tesseract reads OCR-B's filler chevron as "<K", "K" or "E", and a thin I as "1I": characters
too many or too few, which shift everything after them. Placing each read character in its
cell by position undoes both: two reads in one cell are one character, a cell nobody read is
a filler, and a letter that looks like a chevron is one where its cell has no vertical stroke
at its left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from verifier.documents.ocr import OcrChar

# Letters Tesseract's general models give for OCR-B's chevron.
CHEVRON_LOOKALIKES = frozenset("KEXRCL")
# A read character whose centre lies further than this share of the pitch from its cell's
# centre does not fit the grid; more than the second share of such characters: no grid.
_MAX_OFFSET = 0.3
_MAX_MISFITS = 0.2
# The grid is refitted on at least this many characters, changing the pitch by less than
# the share.
_MIN_FIT_CHARS = 6
_MAX_PITCH_CHANGE = 0.05
# OCR-B glyphs are about this share of the pitch wide (the first and last glyphs' outer
# edges span the line's width less one gap).
_GLYPH_SHARE = 0.7
# Connected ink smaller than this (px) is a speck; a glyph is between these shares of the
# line's typical glyph height (the chevron is the shortest).
_MIN_GLYPH_AREA = 12
_GLYPH_HEIGHTS = (0.4, 1.6)
# A stroke at a glyph's left spanning less than this share of the line's height (a sharp
# point: the second share), with its middle within the third share of the height from the
# glyph's middle, is the chevron's point.
_STEM_SHARE = 0.55
_SHARP_STEM_SHARE = 0.3
_POINT_OFF_CENTRE = 0.15
# Costs of placing reads in cells (see `cell_line`): per pitch of distance (capped), for a
# glyph of the wrong shape, for a read left out, for a cell left empty (less for a chevron's).
_PER_PITCH = 0.15
_FAR = 4.0
_WRONG_SHAPE = 0.7
_LEFT_OUT = 0.8
_EMPTY = 0.9
_EMPTY_CHEVRON = 0.2


@dataclass(frozen=True)
class Grid:
    first_centre_px: float
    pitch_px: float

    def cell(self, centre_px: float) -> float:
        return (centre_px - self.first_centre_px) / self.pitch_px


def ink_of(grey_line: np.ndarray) -> np.ndarray:
    """0/1 ink of a line image (dark print on light ground)."""
    return cv2.threshold(grey_line, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]


def _glyph_span(ink: np.ndarray) -> tuple[float, float] | None:
    """Left and right edge of the line's glyphs: its connected inks of about the typical
    glyph's height, not touching the image's sides (the page's edge, a speck, a stroke of
    the line above reaching in)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    boxes = stats[1:]
    boxes = boxes[boxes[:, cv2.CC_STAT_AREA] >= _MIN_GLYPH_AREA]
    if len(boxes) == 0:
        return None
    heights = boxes[:, cv2.CC_STAT_HEIGHT]
    typical = float(np.median(heights))
    left = boxes[:, cv2.CC_STAT_LEFT]
    right = left + boxes[:, cv2.CC_STAT_WIDTH]
    glyphs = (heights >= _GLYPH_HEIGHTS[0] * typical) & (heights <= _GLYPH_HEIGHTS[1] * typical) \
        & (left > 0) & (right < ink.shape[1])
    if not glyphs.any():
        return None
    return float(left[glyphs].min()), float(right[glyphs].max())


def line_grid(ink: np.ndarray, chars: list[OcrChar], width: int) -> Grid | None:
    """The cells of a line from its ink's extent, aligned on where the characters were read;
    None when the reads do not sit on one grid (a speck or a neighbouring line's print
    stretching the extent)."""
    span = _glyph_span(ink)
    if span is None or len(chars) < width // 2:
        return None
    pitch = (span[1] - span[0]) / (width - 1 + _GLYPH_SHARE)
    first = span[0] + _GLYPH_SHARE * pitch / 2
    grid = Grid(first, pitch)
    offsets = np.array([grid.cell((c.left_px + c.right_px) / 2) for c in chars])
    residual = offsets - np.round(offsets)
    grid = Grid(first + float(np.median(residual)) * pitch, pitch)
    # Refined on the letters and digits that sit near a cell (Tesseract places the fillers
    # of a long run worst): their centres against their cells' numbers, a straight line.
    centres = np.array([(c.left_px + c.right_px) / 2 for c in chars])
    offsets = np.array([grid.cell(x) for x in centres])
    near = (np.abs(offsets - np.round(offsets)) < _MAX_OFFSET) \
        & np.array([c.text != "<" for c in chars])
    if near.sum() >= _MIN_FIT_CHARS:
        pitch_fit, first_fit = np.polyfit(np.round(offsets[near]), centres[near], 1)
        if abs(pitch_fit / pitch - 1) < _MAX_PITCH_CHANGE:
            grid = Grid(float(first_fit), float(pitch_fit))
    offsets = np.array([grid.cell((c.left_px + c.right_px) / 2) for c in chars])
    misfits = np.abs(offsets - np.round(offsets)) > _MAX_OFFSET
    outside = (np.round(offsets) < 0) | (np.round(offsets) > width - 1)
    if misfits.mean() > _MAX_MISFITS or outside.mean() > _MAX_MISFITS:
        return None
    return grid


def _is_chevron(ink: np.ndarray, grid: Grid, index: int, height: int,
                stem_share: float = 0.55) -> bool:
    """Whether cell `index` holds a glyph whose left edge is a point at mid-height (the
    chevron), not a stem (K, E, L, R) nor a corner at the top or bottom (A, V, 7)."""
    left = round(grid.first_centre_px + (index - 0.5) * grid.pitch_px)
    right = round(grid.first_centre_px + (index + 0.5) * grid.pitch_px)
    cell = ink[:, max(0, left):max(0, right)]
    cols = np.flatnonzero(cell.any(axis=0))
    rows = np.flatnonzero(cell.any(axis=1))
    if cols.size == 0:
        return False
    x0 = int(cols[0])
    stem = cell[:, x0:x0 + max(2, (int(cols[-1]) - x0) // 6)]
    ys = np.flatnonzero(stem.any(axis=1))
    middle = (ys[0] + ys[-1]) / 2
    centred = abs(middle - (rows[0] + rows[-1]) / 2) < _POINT_OFF_CENTRE * height
    return bool(ys[-1] - ys[0] + 1 < stem_share * height and centred)


def _cost(char: OcrChar, cell: int, grid: Grid, chevron: bool) -> float:
    """The cost of reading `char` in `cell`: its distance from the cell (Tesseract places
    characters only roughly, worst in long filler runs) and a glyph of the wrong shape."""
    offset = min(abs(grid.cell((char.left_px + char.right_px) / 2) - cell), _FAR)
    if char.text == "<":
        shape = 0.0 if chevron else _WRONG_SHAPE
    elif char.text in CHEVRON_LOOKALIKES:
        shape = 0.0
    else:
        shape = _WRONG_SHAPE if chevron else 0.0
    return _PER_PITCH * offset + shape


def cell_line(ink: np.ndarray, chars: list[OcrChar], grid: Grid, width: int,
              ends_in_digit: bool = False) -> str:
    """The line's `width` characters: the reads placed in cells in order, at least cost
    (`_cost`; a read left out or a cell left empty costs a fixed amount, an empty cell
    holding a chevron less: Tesseract drops fillers more than anything). Two reads of one
    glyph ("1" and "I" from one I, "<K" from one chevron) leave one out; an empty cell is a
    filler; a look-alike letter in a chevron's cell next to a filler is a filler. A line
    that `ends_in_digit` (a check digit) has its last digit read in its last cell: after a
    long filler run Tesseract places it cells too early."""
    if ends_in_digit and chars and chars[-1].text.isdigit() and width > 1:
        return cell_line(ink, chars[:-1], grid, width - 1) + chars[-1].text
    rows = np.flatnonzero(ink.any(axis=1))
    height = int(rows[-1] - rows[0] + 1) if rows.size else 0
    chevron = [bool(height) and _is_chevron(ink, grid, j, height, _STEM_SHARE)
               for j in range(width)]
    sharp = [c and _is_chevron(ink, grid, j, height, _SHARP_STEM_SHARE)
             for j, c in enumerate(chevron)]
    n = len(chars)
    inf = float("inf")
    # cost[k][j]: the first k reads placed in the first j cells.
    cost = np.full((n + 1, width + 1), inf)
    move = np.zeros((n + 1, width + 1), np.int8)  # 0 read left out, 1 cell empty, 2 placed
    cost[0, 0] = 0.0
    for k in range(n + 1):
        for j in range(width + 1):
            if k and cost[k - 1, j] + _LEFT_OUT < cost[k, j]:
                cost[k, j], move[k, j] = cost[k - 1, j] + _LEFT_OUT, 0
            if j:
                empty = _EMPTY_CHEVRON if chevron[j - 1] else _EMPTY
                if cost[k, j - 1] + empty < cost[k, j]:
                    cost[k, j], move[k, j] = cost[k, j - 1] + empty, 1
            if k and j:
                placed = cost[k - 1, j - 1] + _cost(chars[k - 1], j - 1, grid, chevron[j - 1])
                if placed < cost[k, j]:
                    cost[k, j], move[k, j] = placed, 2
    line = ["<"] * width
    k, j = n, width
    while k or j:
        if move[k, j] == 0:
            k -= 1
        elif move[k, j] == 1:
            j -= 1
        else:
            line[j - 1] = chars[k - 1].text
            k, j = k - 1, j - 1
    # A look-alike letter in a chevron's cell next to a filler is a filler; elsewhere only
    # where the point is sharp (a blurred C or R has a chevron's left edge too).
    changed = True
    while changed:
        changed = False
        for j, text in enumerate(line):
            if text in CHEVRON_LOOKALIKES and chevron[j] and (sharp[j] or "<" in (
                    line[j - 1] if j else "", line[j + 1] if j + 1 < width else "")):
                line[j], changed = "<", True
    return "".join(line)
