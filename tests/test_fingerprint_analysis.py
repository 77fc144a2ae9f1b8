"""Fingerprint analysis with known ground truth: generated fingers (labelled by construction),
transformed copies with a known defect, ISO/IEC 19794-2 templates, the decode gate."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from verifier.config import Config, FingerprintConfig
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.analysis import analyse_grey, load_extractor
from verifier.fingerprint.extraction import MinutiaeExtractor
from verifier.fingerprint.matching import compare_minutiae
from verifier.fingerprint.quality import LikelyCause
from verifier.fingerprint.template import check_template, template_from_text, template_to_text
from verifier.synthetic.fingerprints import (
    IMAGE_HEIGHT_PX,
    IMAGE_WIDTH_PX,
    impression,
    master_fingerprint,
)

SETTINGS = FingerprintConfig()


@pytest.fixture(scope="module")
def extractor(config: Config) -> MinutiaeExtractor:
    return load_extractor(config)


def test_generator_is_deterministic_and_impressions_differ() -> None:
    a, b = impression(3, 0), impression(3, 0)
    assert a.shape == (IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, impression(3, 1))
    assert master_fingerprint(3).pattern == master_fingerprint(3).pattern
    with pytest.raises(ValueError, match="unknown pattern"):
        master_fingerprint(99, pattern="spiral")


def test_genuine_pairs_score_above_every_impostor_pair(extractor: MinutiaeExtractor) -> None:
    fingers = range(40, 46)
    minutiae = {(f, k): analyse_grey(impression(f, k), 500, extractor, SETTINGS)
                .extraction.minutiae for f in fingers for k in range(2)}
    genuine = [compare_minutiae(minutiae[f, 0], minutiae[f, 1], SETTINGS) for f in fingers]
    impostor = [compare_minutiae(minutiae[f, 0], minutiae[g, 0], SETTINGS)
                for f in fingers for g in fingers if f < g]
    assert all(c.match for c in genuine), [c.score for c in genuine]
    assert not any(c.match for c in impostor), [c.score for c in impostor]


def _darken(g: np.ndarray) -> np.ndarray:
    return (g * 0.35).astype(np.uint8)


def _lighten(g: np.ndarray) -> np.ndarray:
    return (255 - (255 - g.astype(np.int32)) * 0.25).astype(np.uint8)


def _smudge(g: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(g, (0, 0), 3)


def _fingertip_only(g: np.ndarray) -> np.ndarray:
    out = np.full_like(g, 235)
    out[150:250, 100:200] = g[150:250, 100:200]
    return out


@pytest.mark.parametrize(("transform", "cause"), [
    (_darken, LikelyCause.TOO_DARK), (_lighten, LikelyCause.TOO_LIGHT),
    (_smudge, LikelyCause.SMUDGED), (_fingertip_only, LikelyCause.TOO_SMALL_AREA),
    (lambda g: np.full_like(g, 240), LikelyCause.NO_FINGER),
])
def test_likely_cause_names_the_defect_that_was_made(transform, cause,  # type: ignore[no-untyped-def]
                                                     extractor: MinutiaeExtractor) -> None:
    for finger in (1, 5):
        clean = analyse_grey(impression(finger, 1), 500, extractor, SETTINGS).quality
        assert clean.cause in (LikelyCause.NONE, LikelyCause.UNCLEAR)  # no visible defect
        assert analyse_grey(transform(impression(finger, 1)), 500, extractor,
                            SETTINGS).quality.cause is cause


def test_blank_image_fails_the_nfiq2_gate(extractor: MinutiaeExtractor) -> None:
    quality = analyse_grey(np.full((400, 300), 240, np.uint8), 500, extractor, SETTINGS).quality
    assert quality.nfiq2 is None and not quality.passed and quality.score == 0


def test_other_resolutions_are_resampled_to_500_ppi(extractor: MinutiaeExtractor) -> None:
    at_500 = analyse_grey(impression(7, 0), 500, extractor, SETTINGS).extraction.minutiae
    g = impression(7, 1)
    at_1000 = cv2.resize(g, (g.shape[1] * 2, g.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    resampled = analyse_grey(at_1000, 1000, extractor, SETTINGS).extraction.minutiae
    assert compare_minutiae(at_500, resampled, SETTINGS).match
    with pytest.raises(InvalidInput, match="300 ppi is outside"):
        analyse_grey(g, 300, extractor, SETTINGS)


def test_iso_template_round_trip_keeps_the_match(extractor: MinutiaeExtractor) -> None:
    a = analyse_grey(impression(8, 0), 500, extractor, SETTINGS).extraction
    b = analyse_grey(impression(8, 1), 500, extractor, SETTINGS).extraction
    data = a.minutiae.to_iso_19794_2_2005()
    assert data[:8] == b"FMR\x00 20\x00"
    loaded = extractor.load_template(template_from_text(template_to_text(data)))
    assert len(loaded.get()) == a.minutiae_count
    assert loaded.compare(b.minutiae) == a.minutiae.compare(b.minutiae)


@pytest.mark.parametrize(("data", "message"), [
    (b"FMR", "shorter than"),
    (b"XYZ\x00 20\x00" + bytes(40), "not an ISO/IEC 19794-2"),
    (b"FMR\x00 20\x00\x00\x00\x10\x00" + bytes(40), "header says"),
])
def test_malformed_templates_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_template(data)
    with pytest.raises(InvalidInput, match="base64"):
        template_from_text("not base64!")
    with pytest.raises(InvalidInput, match=message):
        template_from_text(base64.b64encode(data).decode())


@pytest.mark.parametrize("shape", [(8, 8), (1, 1), (40, 300), (2400, 300)])
def test_sizes_nbis_cannot_take_are_refused_before_it_sees_them(
        shape: tuple[int, int], extractor: MinutiaeExtractor) -> None:
    # An 8 x 8 image would abort the whole process inside mindtct.
    with pytest.raises(InvalidInput, match="each side must be"):
        analyse_grey(np.full(shape, 128, np.uint8), 500, extractor, SETTINGS)
