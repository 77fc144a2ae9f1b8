"""Minutiae and NFIQ 2 from a 500 ppi grey fingerprint, through NIST's NBIS (mindtct) and
NFIQ 2 as bundled in `nbis-py`.

`load_minutiae_extractor` is the model registry's loader for the NBIS library (the NFIQ 2
random forest is compiled into it, so the library file is what the registry pins). The NBIS
handles are not documented as thread-safe and the ctypes calls release the GIL, so the loader
is `per_thread`: each analysis thread borrows its own extractor and extractions run in
parallel. Bozorth3 (`Minutiae.compare`) keeps its state in C globals; nbis-py serialises it
behind a process-wide mutex of its own (the pinned library: concurrent scores equal serial
ones and two threads compare no faster than one, bench/REPORT-stations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lebong_contract.errors import InvalidInput
from verifier.models import per_thread

FINGERPRINT_PPI = 500


@dataclass(frozen=True)
class Extraction:
    """What NBIS found in one image."""

    minutiae: Any  # nbis.Minutiae: compare() with another for a Bozorth3 score
    minutiae_count: int
    nfiq2: int | None  # None: NFIQ 2 could not assess the image (blank, tiny, too blurred)
    nfiq2_features: dict[str, float]  # NFIQ 2's native and actionable feature values


def _nbis() -> Any:
    import nbis  # imported at load time, not when the verifier is imported

    return nbis


def _new_handle(compute_nfiq2: bool) -> Any:
    nbis = _nbis()
    return nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
        min_quality=0.0, get_center=False, check_fingerprint=False,
        compute_nfiq2=compute_nfiq2, ppi=None))


class MinutiaeExtractor:
    """Two NBIS handles, with and without NFIQ 2; for one thread at a time."""

    def __init__(self) -> None:
        self._with_nfiq2 = _new_handle(True)
        self._plain = _new_handle(False)

    def extract(self, grey_500ppi: np.ndarray) -> Extraction:
        """Minutiae and NFIQ 2 of an 8-bit grey image at 500 ppi. When NFIQ 2 cannot assess
        the image its score is None and the minutiae come from mindtct alone. Callers check
        the size first (verifier.fingerprint.analysis): tiny images crash mindtct."""
        png = _encode_png(grey_500ppi)
        nbis = _nbis()
        try:
            minutiae = self._with_nfiq2.extract_minutiae(png)
            result = minutiae.quality()
            features = {v.name: float(v.value) for v in (*result.features, *result.actionable)}
            return Extraction(minutiae=minutiae, minutiae_count=len(minutiae.get()),
                              nfiq2=int(result.score), nfiq2_features=features)
        except nbis.NbisError:
            pass  # NFIQ 2 could not assess it; mindtct alone may still read minutiae
        try:
            minutiae = self._plain.extract_minutiae(png)
        except nbis.NbisError as exc:
            raise InvalidInput(f"NBIS could not process the fingerprint image: {exc!r}",
                               reason="FINGERPRINT_UNREADABLE") from None
        return Extraction(minutiae=minutiae, minutiae_count=len(minutiae.get()), nfiq2=None,
                          nfiq2_features={})

    def load_template(self, iso_19794_2: bytes) -> Any:
        """nbis.Minutiae from ISO/IEC 19794-2:2005 bytes (checked by verifier.fingerprint.template)."""
        nbis = _nbis()
        try:
            return self._plain.load_iso_19794_2_2005(iso_19794_2)
        except nbis.NbisError as exc:
            raise InvalidInput(f"not a readable ISO/IEC 19794-2 template: {exc!r}",
                               reason="TEMPLATE_INVALID") from None


@per_thread
def load_minutiae_extractor(library: Path) -> MinutiaeExtractor:
    """Registry loader: `library` is the verified libnbis.so that `nbis` itself loads."""
    del library  # verified by the registry; nbis loads it from the same place
    return MinutiaeExtractor()


def to_500ppi(grey: np.ndarray, ppi: int) -> np.ndarray:
    """Resample to the 500 ppi that mindtct and NFIQ 2 assume."""
    if ppi == FINGERPRINT_PPI:
        return grey
    scale = FINGERPRINT_PPI / ppi
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _encode_png(grey: np.ndarray) -> bytes:
    # NBIS decodes only what the decode gate has already checked, re-encoded losslessly.
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(grey, dtype=np.uint8))
    if not ok:
        raise InvalidInput("fingerprint image could not be re-encoded for NBIS")
    return buf.tobytes()
