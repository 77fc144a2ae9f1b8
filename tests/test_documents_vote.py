"""The NIK line read by Tesseract and PP-OCR's recogniser, and the vote between the reads."""

import io
import random

import numpy as np
import pytest
from PIL import Image

from verifier.config import Config
from verifier.documents.item import TEXT_RECOGNISER
from verifier.documents.ktp import ocr_image, read_ktp
from verifier.documents.nik_vote import NikRead, recognised_nik, vote_nik
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
    assert recognised_nik(_line(f"QQ:{NIK}")).digits == NIK
    assert recognised_nik(_line(f": {NIK[:8]} {NIK[8:]}")).digits == NIK
    # The colon read as a digit glued to the run: the NIK ends the line.
    assert recognised_nik(_line(f"8{NIK}")).digits == NIK
    assert recognised_nik(_line("NIK")).digits == ""


def test_two_reads_agreeing_outvote_a_third_and_are_trusted() -> None:
    wrong = NIK[:10] + "8" + NIK[11:]
    vote = vote_nik([NikRead("recogniser", wrong, 0.99), NikRead("reread", NIK, 0.4),
                     NikRead("page", NIK, 0.4)])
    assert vote is not None
    assert vote.digits == NIK and vote.agreeing == ("reread", "page")
    assert vote.confidence >= 0.9


def test_a_lone_read_is_doubtful_and_an_invalid_one_more_so() -> None:
    alone = vote_nik([NikRead("recogniser", NIK, 0.95), NikRead("reread", "1707", 0.5),
                      NikRead("page", "", 0.5)])
    assert alone is not None and alone.digits == NIK and alone.confidence < 0.6
    invalid = "1707111111710000"  # serial 0000 is never issued
    both = vote_nik([NikRead("recogniser", invalid, 0.95), NikRead("page", NIK, 0.95)])
    # One read each: the valid NIK wins the tie, and still carries the doubt of a lone read.
    assert both is not None and both.digits == NIK and both.confidence < 0.6
    assert vote_nik([NikRead("page", "", 0.9)]) is None


def test_recogniser_reads_a_clean_nik_line(recogniser) -> None:  # type: ignore[no-untyped-def]
    card, truth = generate_ktp(3)
    grey = ocr_image(card)
    # The NIK line of the rectified card, right of its label (found by the page read in
    # `read_ktp`; cut here at its place on the generated layout).
    line = grey[300:390, 400:1400]
    read = recognised_nik(recognise_line(recogniser, line))
    assert read.digits == truth["nik"]
    assert read.confidence > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("seed", [200011, 200171, 200288])
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
