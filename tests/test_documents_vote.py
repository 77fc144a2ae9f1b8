"""Fields read by Tesseract and PP-OCR's recogniser, and the vote between the reads."""

import io
import random

import numpy as np
import pytest
from PIL import Image

from verifier.config import Config
from verifier.documents.item import TEXT_RECOGNISER
from verifier.documents.ktp import ocr_image, read_ktp
from verifier.documents.nik import decode_nik
from verifier.documents.vote import FieldRead, recognised_nik, vote
from verifier.documents.reader import rectify_upright
from verifier.documents.textrec import RecognisedChar, RecognisedLine, recognise_line
from verifier.models import load_one
from verifier.synthetic.degrade import degrade, random_degradation
from verifier.synthetic.ktp import generate_ktp

NIK = "1707111111710122"  # valid: Lebong, 11-11-1971, male, serial 122


@pytest.fixture(scope="module")
def recogniser():  # type: ignore[no-untyped-def]
    return load_one(Config().models_registry, TEXT_RECOGNISER)


def _line(text: str, confidence: float = 0.9) -> RecognisedLine:
    return RecognisedLine(tuple(RecognisedChar(ch, confidence) for ch in text))


def test_nik_is_the_last_run_of_digits_after_the_colon() -> None:
    assert recognised_nik(_line(f"QQ:{NIK}")).value == NIK
    assert recognised_nik(_line(f": {NIK[:8]} {NIK[8:]}")).value == NIK
    # The colon read as a digit glued to the run: the NIK ends the line.
    assert recognised_nik(_line(f"8{NIK}")).value == NIK
    assert not recognised_nik(_line("NIK")).complete


def _read(source: str, value: str, confidence: float) -> FieldRead:
    engine = "pp-ocr" if source == "recogniser" else "tesseract"
    return FieldRead(source, engine, value, len(value) == len(NIK), confidence)


def _valid(nik: str) -> bool:
    return decode_nik(nik).valid


WRONG = NIK[:10] + "8" + NIK[11:]  # a 1 read as 8: still a valid NIK


def test_both_engines_agreeing_are_trusted_over_a_third_read() -> None:
    voted = vote([_read("recogniser", NIK, 0.7), _read("reread", WRONG, 0.4),
                  _read("page", NIK, 0.4)], _valid)
    assert voted is not None
    assert voted.value == NIK and voted.agreeing == ("recogniser", "page")
    assert voted.confidence >= 0.9
    all_three = vote([_read("recogniser", NIK, 0.7), _read("reread", NIK, 0.4),
                      _read("page", NIK, 0.4)], _valid)
    assert all_three is not None and all_three.confidence > voted.confidence


def test_engines_disagreeing_leave_the_value_in_doubt() -> None:
    # Tesseract's two reads share its slips: agreeing, they are still one engine's vote.
    voted = vote([_read("recogniser", NIK, 0.99), _read("reread", WRONG, 0.9),
                  _read("page", WRONG, 0.9)], _valid)
    assert voted is not None and voted.value == NIK and voted.confidence < 0.6
    # With no other engine's read against them, Tesseract's two agreeing reads are trusted.
    unopposed = vote([_read("recogniser", "1707", 0.99), _read("reread", NIK, 0.4),
                      _read("page", NIK, 0.4)], _valid)
    assert unopposed is not None and unopposed.value == NIK and unopposed.confidence >= 0.9


def test_a_lone_read_is_doubtful_and_an_invalid_one_more_so() -> None:
    alone = vote([_read("recogniser", NIK, 0.95), _read("reread", "1707", 0.5),
                  _read("page", "", 0.5)], _valid)
    assert alone is not None and alone.value == NIK and alone.confidence < 0.6
    invalid = "1707111111710000"  # serial 0000 is never issued
    both = vote([_read("recogniser", invalid, 0.95), _read("page", NIK, 0.95)], _valid)
    # One engine each: the valid NIK wins the tie, and keeps the doubt of the disagreement.
    assert both is not None and both.value == NIK and both.confidence < 0.6
    alone_invalid = vote([_read("recogniser", invalid, 0.95)], _valid)
    assert alone_invalid is not None and alone_invalid.confidence < 0.3
    assert vote([_read("page", "", 0.9)], _valid) is None


def test_recogniser_reads_a_clean_nik_line(recogniser) -> None:  # type: ignore[no-untyped-def]
    card, truth = generate_ktp(3)
    grey = ocr_image(card)
    # The NIK line of the rectified card, right of its label (found by the page read in
    # `read_ktp`; cut here at its place on the generated layout).
    line = grey[300:390, 400:1400]
    read = recognised_nik(recognise_line(recogniser, line))
    assert read.value == truth["nik"] and read.complete
    assert read.confidence > 0.5


@pytest.mark.slow
# Development cards where Tesseract alone misread the NIK (since the background is flattened
# on the brightest channel it reads 200171 and 200288 right as well).
@pytest.mark.parametrize("seed", [200011])
def test_nik_read_where_tesseract_alone_drops_digits(seed: int,  # type: ignore[no-untyped-def]
                                                      recogniser) -> None:
    card, truth = generate_ktp(seed)
    shot = degrade(card, random_degradation(random.Random(seed)), seed)
    photo = np.asarray(Image.open(io.BytesIO(shot.encoded())).convert("RGB"))  # as sent
    image = rectify_upright(photo, "ktp").image
    alone = read_ktp(image).value("nik")
    voted = read_ktp(image, recogniser)
    assert alone != truth["nik"]
    assert voted.value("nik") == truth["nik"]
