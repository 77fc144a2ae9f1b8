"""The fingerprint-scanner boundary: drivers yield `FingerprintCapture`s, the session sends them.

One module per driver (folder replay, MOSIP SBI 2.0) keeps vendor details out of the
session, the same way the camera protocol does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from lebong_contract.sbi_record import SbiCaptureRecord

# ISO/IEC 19794-4 finger positions, 1-10 (0 is "unknown" and never sent).
FINGER_NAMES: dict[int, str] = {
    1: "right_thumb", 2: "right_index", 3: "right_middle", 4: "right_ring", 5: "right_little",
    6: "left_thumb", 7: "left_index", 8: "left_middle", 9: "left_ring", 10: "left_little",
}


@dataclass(frozen=True, eq=False)
class FingerprintCapture:
    """One encoded fingerprint image and where it came from."""

    position: int  # ISO/IEC 19794-4, 1..10
    image: bytes  # PNG, TIFF, BMP or JPEG as the scanner produced it
    ppi: int
    scanner_id: str
    # The signed record the image came from, forwarded for the verifier to check; None: no
    # signing device (a development station's folder).
    sbi_record: SbiCaptureRecord | None = None

    def __post_init__(self) -> None:
        if self.position not in FINGER_NAMES:
            raise ValueError(f"finger position must be 1-10, got {self.position}")


@runtime_checkable
class FingerprintScanner(Protocol):
    """A source of fingerprint captures, in the order the officer should see them."""

    scanner_id: str

    def captures(self) -> Iterator[FingerprintCapture]: ...

    def close(self) -> None: ...
