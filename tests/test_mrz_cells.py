"""MRZ lines read into their fixed-pitch cells: a chevron read as "<K", an I read as "1I",
a filler nobody read, and a K where a chevron is printed."""

import random

import cv2
import numpy as np
import pytest

from verifier.documents.layout import PASSPORT_MRZ_BAND, PASSPORT_SIZE_PX, box_px
from verifier.documents.mrz_cells import cell_line, line_grid
from verifier.documents.mrz_reader import read_mrz_band
from verifier.documents.ocr import OcrChar
from verifier.synthetic.degrade import degrade, random_degradation
from verifier.synthetic.passport import generate_passport

PITCH, GLYPH, HEIGHT = 20, 14, 40


def _ink(printed: str) -> np.ndarray:
    """A line's ink: a chevron where `printed` has '<', a full-height stem elsewhere."""
    ink = np.zeros((HEIGHT + 10, PITCH * len(printed) + 10), np.uint8)
    for i, ch in enumerate(printed):
        x0 = 5 + i * PITCH + (PITCH - GLYPH) // 2
        if ch == "<":
            cv2.line(ink, (x0 + GLYPH, 10), (x0, 5 + HEIGHT // 2), 1, 2)
            cv2.line(ink, (x0, 5 + HEIGHT // 2), (x0 + GLYPH, HEIGHT), 1, 2)
        else:
            ink[5:5 + HEIGHT, x0:x0 + 3] = 1
            ink[5:8, x0:x0 + GLYPH] = 1
    return ink


def _read(cells_and_texts: list[tuple[float, str]]) -> list[OcrChar]:
    """Reads at cell positions (fractions allowed), as Tesseract places them."""
    chars = []
    for cell, text in cells_and_texts:
        centre = 5 + (cell + 0.5) * PITCH
        chars.append(OcrChar(text, round(centre - 4), round(centre + 4)))
    return chars


def test_two_reads_of_one_thin_glyph_are_one_character() -> None:
    printed = "P<IDNSARI"
    reads = _read([(0, "P"), (1, "<"), (1.9, "1"), (2.1, "I"), (3, "D"), (4, "N"), (5, "S"),
                   (6, "A"), (7, "R"), (8, "I")])
    ink = _ink(printed)
    grid = line_grid(ink, reads, len(printed))
    assert grid is not None
    assert cell_line(ink, reads, grid, len(printed)) == "P<IDNSARI"


def test_a_chevron_read_as_two_characters_does_not_shift_the_name() -> None:
    printed = "ANNA<MARIA"
    reads = _read([(0, "A"), (1, "N"), (2, "N"), (3, "A"), (3.8, "<"), (4.2, "K"), (5, "M"),
                   (6, "A"), (7, "R"), (8, "I"), (9, "A")])
    ink = _ink(printed)
    grid = line_grid(ink, reads, len(printed))
    assert grid is not None
    assert cell_line(ink, reads, grid, len(printed)) == "ANNA<MARIA"


def test_a_k_is_a_filler_only_where_a_chevron_is_printed() -> None:
    reads = _read([(0, "A"), (1, "B"), (2, "K"), (3, "<"), (4, "<"), (5, "<")])
    chevron = _ink("AB<<<<")
    grid = line_grid(chevron, reads, 6)
    assert grid is not None and cell_line(chevron, reads, grid, 6) == "AB<<<<"
    # The twin: the same reads over a printed K (a stem) keep the K.
    letter = _ink("ABK<<<")
    grid = line_grid(letter, reads, 6)
    assert grid is not None and cell_line(letter, reads, grid, 6) == "ABK<<<"


def test_a_filler_nobody_read_is_a_filler_and_the_line_keeps_its_length() -> None:
    printed = "AB<<<<<<C"
    reads = _read([(0, "A"), (1, "B"), (2, "<"), (3.6, "<"), (8, "C")])
    ink = _ink(printed)
    grid = line_grid(ink, reads, len(printed))
    assert grid is not None
    assert cell_line(ink, reads, grid, len(printed)) == printed


def test_reads_off_any_grid_give_no_grid() -> None:
    rng = random.Random(3)
    reads = _read([(rng.uniform(0, 8) + 0.5, "A") for _ in range(9)])
    reads.sort(key=lambda c: c.left_px)
    assert line_grid(_ink("ABCDEFGHI"), reads, 9) is None
    assert line_grid(np.zeros((50, 200), np.uint8), reads, 9) is None


def _band(page: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = box_px(PASSPORT_MRZ_BAND, PASSPORT_SIZE_PX)
    return np.ascontiguousarray(page[y0:y1, x0:x1])


@pytest.mark.parametrize("seed", [1, 6, 7, 11])
def test_generated_zones_read_line_for_line(seed: int) -> None:
    # Seeds whose MRZ the reader got wrong before it read by cells: "P<IDN" read
    # "P<1IDN", "<<" read "<K".
    page, truth = generate_passport(seed)
    reading = read_mrz_band(_band(page))
    assert reading is not None and reading.data is not None
    assert reading.data.lines == (truth["mrz_line_1"], truth["mrz_line_2"])
    assert reading.data.check_digits_ok


def test_photographed_zone_names_come_back_without_stray_letters() -> None:
    page, truth = generate_passport(1)
    from verifier.documents.reader import rectify_upright

    shot = degrade(page, random_degradation(random.Random(1)), 1)
    reading = read_mrz_band(_band(rectify_upright(shot.rgb, "passport").image))
    assert reading is not None and reading.data is not None
    assert (reading.data.surname, reading.data.given_names) == (truth["surname"],
                                                                truth["given_names"])


def test_a_band_without_a_zone_is_no_reading() -> None:
    page, _ = generate_passport(2)
    band = _band(page).copy()
    band[:] = band[:5].mean(axis=(0, 1)).astype(np.uint8)  # the page's tint, no print
    assert read_mrz_band(band) is None
