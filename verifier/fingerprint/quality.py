"""Fingerprint quality: the NFIQ 2 score and, when it is too low, the likely cause an officer
can act on (too dark, too light, too small a contact area, smudged).

NFIQ 2 says *how* usable a print is but not *why*; its scores barely move when a whole
impression is darkened or lightened. The cause therefore comes from simple measures on
16 px blocks of the 500 ppi image (a block is 0.8 mm, about one and a half ridge periods),
thresholds in `FingerprintConfig`, calibrated on generated prints with known defects
(tests/test_fingerprint_quality.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from verifier.config import FingerprintConfig

_BLOCK_PX = 16
_MM_PER_PX_500PPI = 25.4 / 500
# A block whose grey levels vary less than this holds no ridges (background or a blank pad).
_FOREGROUND_BLOCK_STD = 8.0


class LikelyCause(enum.Enum):
    NONE = "none"
    NO_FINGER = "no_finger"
    TOO_SMALL_AREA = "too_small_area"
    TOO_DARK = "too_dark"
    TOO_LIGHT = "too_light"
    SMUDGED = "smudged"
    UNCLEAR = "unclear"  # low NFIQ 2 without any of the visible causes

    def messages(self) -> tuple[str, str]:
        """(Indonesian, English) advice for the officer."""
        return _MESSAGES[self]


_MESSAGES = {
    LikelyCause.NONE: ("Kualitas sidik jari baik", "Fingerprint quality is good"),
    LikelyCause.NO_FINGER: ("Tidak ada sidik jari pada pemindai; letakkan jari",
                            "No fingerprint on the scanner; place the finger"),
    LikelyCause.TOO_SMALL_AREA: ("Bidang sentuh terlalu kecil; tekan jari rata di tengah",
                                 "Contact area too small; press the finger flat in the centre"),
    LikelyCause.TOO_DARK: ("Terlalu gelap; jari basah atau tekanan terlalu kuat, keringkan jari",
                           "Too dark; wet finger or too much pressure, dry the finger"),
    LikelyCause.TOO_LIGHT: ("Terlalu terang; jari kering atau tekanan terlalu lemah",
                            "Too light; dry finger or too little pressure"),
    LikelyCause.SMUDGED: ("Guratan kabur; bersihkan pemindai dan jari, jangan bergeser",
                          "Ridges smudged; clean the platen and finger, do not slide"),
    LikelyCause.UNCLEAR: ("Kualitas rendah; ulangi pengambilan",
                          "Low quality; capture again"),
}


@dataclass(frozen=True)
class ImageMeasures:
    contact_area_mm2: float
    ridge_grey: float  # 10th percentile of grey in the contact area
    valley_grey: float  # 90th percentile
    ridge_contrast_grey: float  # median standard deviation of contact blocks

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FingerprintQuality:
    nfiq2: int | None  # None: NFIQ 2 could not assess the image; treated as 0
    cause: LikelyCause
    measures: ImageMeasures

    passed: bool  # NFIQ 2 reached the configured score

    @property
    def score(self) -> int:
        return self.nfiq2 or 0


def measure_image(grey_500ppi: np.ndarray) -> ImageMeasures:
    h, w = (s - s % _BLOCK_PX for s in grey_500ppi.shape)
    grey = grey_500ppi[:h, :w].astype(np.float32)
    blocks = grey.reshape(h // _BLOCK_PX, _BLOCK_PX, w // _BLOCK_PX, _BLOCK_PX).swapaxes(1, 2)
    block_std = blocks.std(axis=(2, 3))
    contact = block_std > _FOREGROUND_BLOCK_STD
    if not contact.any():
        return ImageMeasures(0.0, float(grey.mean()), float(grey.mean()), 0.0)
    values = blocks[contact].ravel()
    ridge, valley = np.percentile(values, [10, 90])
    block_mm2 = (_BLOCK_PX * _MM_PER_PX_500PPI) ** 2
    return ImageMeasures(contact_area_mm2=float(contact.sum() * block_mm2),
                         ridge_grey=float(ridge), valley_grey=float(valley),
                         ridge_contrast_grey=float(np.median(block_std[contact])))


def likely_cause(nfiq2_passed: bool, measures: ImageMeasures,
                 config: FingerprintConfig) -> LikelyCause:
    """The first visible defect, in the order an officer would fix them. A visible defect is
    named even when NFIQ 2 passes (advice for the next press); UNCLEAR only when NFIQ 2 fails
    with nothing visible to blame."""
    if measures.contact_area_mm2 <= 0:
        return LikelyCause.NO_FINGER
    if measures.contact_area_mm2 < config.min_contact_area_mm2:
        return LikelyCause.TOO_SMALL_AREA
    if measures.valley_grey < config.dark_valley_grey:
        return LikelyCause.TOO_DARK
    if measures.ridge_grey > config.light_ridge_grey:
        return LikelyCause.TOO_LIGHT
    if measures.ridge_contrast_grey < config.min_ridge_contrast_grey:
        return LikelyCause.SMUDGED
    return LikelyCause.NONE if nfiq2_passed else LikelyCause.UNCLEAR


def assess_quality(grey_500ppi: np.ndarray, nfiq2: int | None,
                   config: FingerprintConfig) -> FingerprintQuality:
    measures = measure_image(grey_500ppi)
    passed = nfiq2 is not None and nfiq2 >= config.min_nfiq2
    return FingerprintQuality(nfiq2=nfiq2, cause=likely_cause(passed, measures, config),
                              measures=measures, passed=passed)
