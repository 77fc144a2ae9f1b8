"""Finding the document's outline where its edge is broken or leaves the photo."""

import numpy as np
import pytest

from verifier.documents.rectify import find_quad
from verifier.synthetic.degrade import Degradation, degrade
from verifier.synthetic.ktp import generate_ktp


def _corner_error_px(found: np.ndarray, truth: np.ndarray) -> float:
    """Worst distance from a true corner to the nearest found one (order aside: a card turned
    by quarter turns lists its corners from another start)."""
    return max(float(np.linalg.norm(found - corner, axis=1).min()) for corner in truth)


@pytest.mark.parametrize(("seed", "degradation"), [
    # Glare washing out one edge, a shadow across the other, sensor noise.
    (7, Degradation(tilt_deg=5.2, perspective=0.065, fill=0.88, clutter=True, shadow=0.4,
                    glare=0.47, noise_sigma=5.1)),
    (36, Degradation(tilt_deg=7.7, perspective=0.077, fill=0.88, glare=0.27,
                     blur_sigma_px=0.9, jpeg_quality=91)),
    # Turned and tilted so far that a corner lies outside the photo.
    (52, Degradation(quarter_turns=3, tilt_deg=-7.1, perspective=0.058, fill=0.77,
                     noise_sigma=2.2)),
])
def test_outline_rebuilt_where_the_edge_is_broken(seed: int, degradation: Degradation) -> None:
    card, _ = generate_ktp(seed)
    shot = degrade(card, degradation, seed)
    quad = find_quad(shot.rgb)
    assert quad is not None
    # About 1.5 % of the card's width in the photo: OCR reads through that.
    assert _corner_error_px(quad, shot.quad_px) < 16.0


def test_print_on_a_tightly_cropped_card_is_not_taken_for_its_outline() -> None:
    card, _ = generate_ktp(0)
    assert find_quad(card) is None  # the whole image is the card
