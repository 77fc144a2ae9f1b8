"""Folder scanner: replays fingerprint images from a directory (demos, tests, offline counters).

The finger position comes from the file name, case-insensitively:
`02.png`, `2_anything.png` (ISO/IEC 19794-4 number 1-10) or `right_index.png`,
`left-thumb.tif`, `Right Index 2.bmp` (hand, then finger). Names are checked when the scanner
is opened, so a misnamed file fails before the applicant's session starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

from capture_station.errors import ScannerError, UnknownFingerName
from capture_station.scanners.base import FINGER_NAMES, FingerprintCapture

IMAGE_SUFFIXES = frozenset({".png", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg", ".pgm"})

_NUMBER = re.compile(r"^(\d{1,2})(?:[\s_.\-].*)?$")
_HAND_FINGER = re.compile(
    r"^(right|left)[\s_\-]+(thumb|index|middle|ring|little|pinky)(?:[\s_.\-].*)?$")
_POSITION_BY_NAME = {name: number for number, name in FINGER_NAMES.items()}


def finger_position_from_name(file_name: str) -> int:
    """ISO/IEC 19794-4 position named by a file name; `UnknownFingerName` when there is none."""
    stem = Path(file_name).stem.strip().lower()
    if match := _NUMBER.match(stem):
        number = int(match.group(1))
        if number in FINGER_NAMES:
            return number
        raise UnknownFingerName(
            f"{file_name}: finger number {number} is outside ISO/IEC 19794-4 positions 1-10")
    if match := _HAND_FINGER.match(stem):
        finger = "little" if match.group(2) == "pinky" else match.group(2)
        return _POSITION_BY_NAME[f"{match.group(1)}_{finger}"]
    raise UnknownFingerName(
        f"{file_name}: cannot tell the finger from the name; use the ISO number "
        "(02.png, 2_scan.png) or hand and finger (right_index.png, left-thumb.tif)")


class FolderScanner:
    """Yields every image file in `path`, ordered by finger position then name, the first at
    once and each next one `interval_s` later (the time a person at a real scanner takes:
    training, demos and load tests that should pace like a counter)."""

    def __init__(self, path: str | Path, ppi: int = 500, interval_s: float = 0.0) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise ScannerError(f"fingerprint folder {str(self.path)!r} is not a directory")
        if ppi <= 0:
            raise ScannerError(f"ppi must be positive, got {ppi}")
        if not 0 <= interval_s <= 600:
            raise ScannerError(f"interval must be 0-600 seconds, got {interval_s}")
        self.ppi = ppi
        self.interval_s = interval_s
        self.scanner_id = f"folder:{self.path.resolve()}"
        files = [f for f in self.path.iterdir()
                 if f.is_file() and not f.name.startswith(".")
                 and f.suffix.lower() in IMAGE_SUFFIXES]
        # Parsed up front: a bad name fails now, not halfway through a session.
        self._files = sorted(((finger_position_from_name(f.name), f) for f in files),
                             key=lambda item: (item[0], item[1].name))

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(position for position, _ in self._files)

    def captures(self) -> Iterator[FingerprintCapture]:
        for n, (position, file) in enumerate(self._files):
            if n and self.interval_s:
                time.sleep(self.interval_s)  # the caller iterates in a thread
            yield FingerprintCapture(position=position, image=file.read_bytes(), ppi=self.ppi,
                                     scanner_id=self.scanner_id)

    def close(self) -> None:
        """Nothing to release; present for the protocol."""
