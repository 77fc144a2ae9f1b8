"""Detection cascade, embeddings and decisions on real photos shipped in scikit-image: the
astronaut (Eileen Collins) as the applicant, the cameraman as another person, and the
astronaut's photo printed onto a card and recaptured."""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np
import pytest

from verifier.config import Config
from verifier.face.document_faces import FoundFace, find_face
from verifier.face.embedding import embedding_distance
from verifier.face.matching import FaceMatcher, face_matcher
from verifier.models import LoadedModels
from verifier.synthetic.frames import astronaut, framed_face
from verifier.synthetic.recapture import PHOTO_BOX_PX, Degradation, card_with_photo, recapture

pytestmark = pytest.mark.slow

PORTRAIT = astronaut()[0:330, 70:370]  # head and shoulders, as on a KTP
# A card photographed square-on at the counter: the face is ~75 px wide.
SCANNED = Degradation(card_width_px=1000, tilt_deg=3, glare=0.1, pattern_opacity=0.15,
                      jpeg_quality=85)


@pytest.fixture(scope="module")
def matcher(models: LoadedModels, config: Config) -> FaceMatcher:
    return face_matcher(models, config.face)


@pytest.fixture(scope="module")
def faces(models: LoadedModels, config: Config):  # noqa: ANN201 - a cached lookup
    """Each test image's face, found once per module (an embedding costs ~100 ms)."""
    import skimage.data

    images = {
        "live": framed_face(0.5),
        "cameraman": np.ascontiguousarray(np.stack([skimage.data.camera()] * 3, axis=-1)),
        "card": recapture(PORTRAIT, seed=3, degradation=SCANNED).rgb,
        "small_card": recapture(PORTRAIT, seed=5, degradation=Degradation(
            card_width_px=420, tilt_deg=-5, glare=0.0)).rgb,
    }

    @functools.cache
    def found(name: str) -> FoundFace | None:
        return find_face(images[name], models, config.face)

    return found


def test_live_face_is_found_by_plain_hog(faces) -> None:  # noqa: ANN001
    live = faces("live")
    assert live.stages_tried == ("hog",) and live.faces_found == 1
    assert live.template.embedding.shape == (128,) and live.template.chip.shape == (150, 150, 3)
    # framed_face(0.5) puts a ~240 px face box in a 640x480 frame, centred.
    left, top, right, bottom = live.box_in_source_px()
    assert 200 < right - left < 280 and abs((left + right) / 2 - 320) < 30


def test_recaptured_card_matches_the_live_face(faces, matcher: FaceMatcher,  # noqa: ANN001
                                               config: Config) -> None:
    card = faces("card")
    assert card is not None
    # The face lies inside the printed photo, not in the security pattern.
    x0, y0, x1, y1 = card.box_in_source_px()
    rec = recapture(PORTRAIT, seed=3, degradation=SCANNED)
    px0, py0, px1, py1 = rec.photo_box_px
    assert px0 <= (x0 + x1) / 2 <= px1 and py0 <= (y0 + y1) / 2 <= py1
    decision = matcher.decide(faces("live").template.embedding, card.template.embedding,
                              config.face.operating_point)
    assert decision.match, decision
    # A degraded document photo rates lower than the live capture.
    assert card.template.quality.score < faces("live").template.quality.score


def test_small_card_face_needs_upsampling(faces) -> None:  # noqa: ANN001
    small = faces("small_card")
    assert small is not None and small.stages_tried[0] == "hog"
    assert small.template.detector != "hog"  # plain HOG misses a ~30 px face
    # A 30 px printed face loses identity detail: closer to the live face than to another
    # person, but (bench/REPORT-faces.md) often not within the strict thresholds.
    live, other = faces("live").template.embedding, faces("cameraman").template.embedding
    d_same = embedding_distance(live, small.template.embedding)
    assert d_same < embedding_distance(other, small.template.embedding) - 0.2
    assert small.template.quality.score < faces("live").template.quality.score


def test_cnn_fallback_finds_what_hog_misses_and_it_is_another_person(
        faces, models: LoadedModels, config: Config, matcher: FaceMatcher) -> None:  # noqa: ANN001
    cameraman = faces("cameraman")
    assert cameraman is not None
    assert cameraman.template.detector.startswith("cnn")
    assert cameraman.stages_tried[:2] == ("hog", "hog+upsample1")
    no_cnn = dataclasses.replace(config.face, cnn_fallback=False)
    import skimage.data

    grey3 = np.ascontiguousarray(np.stack([skimage.data.camera()] * 3, axis=-1))
    assert find_face(grey3, models, no_cnn) is None
    for point in ("FMR=1e-2", "FMR=1e-3", "FMR=1e-4"):
        assert not matcher.decide(faces("live").template.embedding,
                                  cameraman.template.embedding, point).match


def test_no_face_anywhere(models: LoadedModels, config: Config) -> None:
    # A small card keeps the cost of every stage (HOG up to 4x upsampled, CNN) low.
    card = cv2.resize(card_with_photo(np.full((300, 240, 3), 200, np.uint8), seed=1),
                      (428, 270), interpolation=cv2.INTER_AREA)
    assert find_face(card, models, config.face) is None


def test_large_image_is_shrunk_and_box_maps_back(faces, models: LoadedModels,  # noqa: ANN001
                                                 config: Config) -> None:
    big = cv2.resize(framed_face(0.5), (2560, 1920), interpolation=cv2.INTER_CUBIC)
    found = find_face(big, models, config.face)
    assert found is not None and found.scale == pytest.approx(2000 / 2560)
    left, top, right, bottom = found.box_in_source_px()
    live = faces("live").box_in_source_px()
    # HOG boxes snap to its scale pyramid: allow 10 % of the ~1000 px face width.
    assert abs(left - 4 * live[0]) < 100 and abs(right - 4 * live[2]) < 100
    assert embedding_distance(found.template.embedding, faces("live").template.embedding) < 0.15


def test_jitter_averages_and_stays_close(faces, models: LoadedModels,  # noqa: ANN001
                                         config: Config) -> None:
    jittered = find_face(framed_face(0.5), models,
                         dataclasses.replace(config.face, num_jitters=3))
    plain = faces("live").template.embedding
    d = embedding_distance(jittered.template.embedding, plain)
    assert 0.0 < d < 0.2  # different (jittered) but far closer than any threshold


def test_card_layout_puts_photo_in_its_box() -> None:
    card = card_with_photo(np.zeros((100, 80, 3), np.uint8), seed=2, pattern_opacity=0.0)
    x0, y0, x1, y1 = PHOTO_BOX_PX
    assert card[y0:y1, x0:x1].max() == 0 and card[:y0].min() > 0
