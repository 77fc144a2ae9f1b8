"""Finding the card and which way up it is, on captures with known geometry: flat scans the
card fills, in every quarter turn; a card held at 45 degrees with a thumb over a corner; a
small card among clutter; EXIF that disagrees with the pixels; a blank sheet next to the card.
Each has a twin that must not be read as a card."""

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from verifier.config import Config
from verifier.documents.item import TEXT_DETECTOR, TEXT_RECOGNISER
from verifier.documents.layout import KTP_PORTRAIT_BOX, KTP_SIZE_PX
from verifier.documents.orientation import photo_side_up
from verifier.documents.reader import read_document
from verifier.documents.rectify import find_quad, rectify, rotated_180
from verifier.imaging import decode_image
from verifier.models import load_one
from verifier.synthetic.degrade import Degradation, degrade
from verifier.synthetic.ktp import generate_ktp
from verifier.synthetic.scenes import beside_a_blank_sheet, flat_scan, held_at_angle

CONFIG = Config()


@pytest.fixture(scope="module")
def detector() -> Any:
    return load_one(CONFIG.models_registry, TEXT_DETECTOR)


@pytest.fixture(scope="module")
def recogniser() -> Any:
    return load_one(CONFIG.models_registry, TEXT_RECOGNISER)


def _corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Worst distance from a true corner to the nearest found one, as a share of the card's
    width in the image."""
    width = float(np.linalg.norm(truth[1] - truth[0]))
    return max(float(np.linalg.norm(found - c, axis=1).min()) for c in truth) / width


def _wrong_fields(rgb: np.ndarray, truth: dict[str, str], detector: Any, recogniser: Any
                  ) -> dict[str, tuple[str, str | None]]:
    reading = read_document(rgb, "ktp", detector, recogniser)
    read = {f.name: f.value for f in reading.fields}
    return {k: (v, read.get(k)) for k, v in truth.items() if read.get(k) != v}


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_scan_filling_the_frame_is_turned_upright_by_its_text(turns: int, detector: Any) -> None:
    card, _ = generate_ktp(21)
    scan = flat_scan(card, quarter_turns=turns)
    upright = photo_side_up(rectify(scan.rgb, "ktp", detector), KTP_PORTRAIT_BOX)
    assert upright.image.shape[:2] == (KTP_SIZE_PX[1], KTP_SIZE_PX[0])
    assert np.abs(upright.image.astype(float) - card.astype(float)).mean() < 12


def test_pale_portrait_does_not_decide_which_way_up(detector: Any) -> None:
    # A portrait on a background as pale as the card's: the photo is no busier than the
    # guilloche, so only the text says which way up the card is.
    card, _ = generate_ktp(22)
    h, w = card.shape[:2]
    x0, y0, x1, y1 = (round(KTP_PORTRAIT_BOX[0] * w), round(KTP_PORTRAIT_BOX[1] * h),
                      round(KTP_PORTRAIT_BOX[2] * w), round(KTP_PORTRAIT_BOX[3] * h))
    pale = card.copy()
    pale[y0:y1, x0:x1] = (pale[y0:y1, x0:x1].astype(float) * 0.15 + 0.85 * 225).astype(np.uint8)
    turned = rotated_180(rectify(pale, "ktp", detector))
    assert np.array_equal(photo_side_up(turned, KTP_PORTRAIT_BOX).image, pale)


def test_blank_card_falls_back_to_the_photo_without_text(detector: Any) -> None:
    # The twin: no text at all, so the text cannot decide; the photo's place does.
    card, _ = generate_ktp(22)
    blank = np.full_like(card, 228)
    h, w = card.shape[:2]
    x0, y0, x1, y1 = (round(KTP_PORTRAIT_BOX[0] * w), round(KTP_PORTRAIT_BOX[1] * h),
                      round(KTP_PORTRAIT_BOX[2] * w), round(KTP_PORTRAIT_BOX[3] * h))
    blank[y0:y1, x0:x1] = card[y0:y1, x0:x1]
    turned = rotated_180(rectify(blank, "ktp", detector))
    assert turned.text_boxes_px == ()  # detected, and there is none
    assert np.array_equal(photo_side_up(turned, KTP_PORTRAIT_BOX).image, blank)


@pytest.mark.parametrize("thumb", [False, True])
def test_card_held_at_45_degrees_is_found(thumb: bool, detector: Any) -> None:
    card, _ = generate_ktp(23)
    scene = held_at_angle(card, 45.0, 23, thumb=thumb)
    quad = find_quad(scene.rgb, detector)
    assert quad is not None
    assert _corner_error(quad, scene.quad_px) < 0.03


def test_small_card_in_clutter_is_found(detector: Any) -> None:
    card, _ = generate_ktp(24)
    shot = degrade(card, Degradation(tilt_deg=6, perspective=0.05, fill=0.35, clutter=True,
                                     shadow=0.3, glare=0.3), 24)
    quad = find_quad(shot.rgb, detector)
    assert quad is not None
    assert _corner_error(quad, shot.quad_px) < 0.03


def test_the_card_not_the_larger_blank_sheet_beside_it(detector: Any) -> None:
    card, _ = generate_ktp(25)
    scene = beside_a_blank_sheet(card, 25)
    quad = find_quad(scene.rgb, detector)
    assert quad is not None and _corner_error(quad, scene.quad_px) < 0.03
    # The twin: without the text detector the largest quadrilateral, the sheet, is taken.
    blind = find_quad(scene.rgb)
    assert blind is not None and _corner_error(blind, scene.quad_px) > 0.2


def test_no_card_in_the_photo_is_no_card(detector: Any) -> None:
    card, _ = generate_ktp(25)
    scene = beside_a_blank_sheet(np.full_like(card, 240), 25)
    # Neither the blank "card" nor the sheet holds text: with no text, outlines are taken as
    # they are, so say so by what is read: nothing.
    reading = read_document(scene.rgb, "ktp", detector, None)
    assert reading.fields == ()
    table = read_document(np.full((960, 1280, 3), 90, np.uint8), "ktp", detector, None)
    assert table.fields == () and not table.rectified.found


@pytest.mark.slow
@pytest.mark.parametrize(("turns", "margin"), [(0, 0.0), (1, 0.05), (2, 0.0), (3, 0.05)])
def test_scan_read_in_every_quarter_turn(turns: int, margin: float, detector: Any,
                                         recogniser: Any) -> None:
    card, truth = generate_ktp(30 + turns)
    wrong = _wrong_fields(flat_scan(card, turns, margin).rgb, truth, detector, recogniser)
    assert "nik" not in wrong and len(wrong) <= 1, wrong


@pytest.mark.slow
def test_card_held_at_45_degrees_with_a_thumb_is_read(detector: Any, recogniser: Any) -> None:
    card, truth = generate_ktp(26)
    scene = held_at_angle(card, 45.0, 26, fill=0.8, thumb=True)
    wrong = _wrong_fields(scene.rgb, truth, detector, recogniser)
    assert "nik" not in wrong and len(wrong) <= 1, wrong


@pytest.mark.slow
def test_exif_disagreeing_with_the_pixels(detector: Any, recogniser: Any) -> None:
    # The pixels hold the card upright; the EXIF says "turn 90 degrees" (a phone that
    # guessed wrong). Decoding obeys the EXIF, so the card arrives on its side and the
    # content has to turn it back.
    card, truth = generate_ktp(27)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(flat_scan(card, 0, 0.05).rgb).save(buffer, format="JPEG", quality=92,
                                                        exif=exif)
    decoded = decode_image(buffer.getvalue(), CONFIG.imaging)
    assert decoded.rgb.shape[0] > decoded.rgb.shape[1]  # on its side after decoding
    wrong = _wrong_fields(decoded.rgb, truth, detector, recogniser)
    assert "nik" not in wrong and len(wrong) <= 1, wrong
