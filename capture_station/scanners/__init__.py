"""Fingerprint scanner drivers, chosen by URI.

    folder:PATH   (or a bare existing directory)   replay image files, see `folder.py`
"""

from __future__ import annotations

from pathlib import Path

from capture_station.errors import UnknownScannerScheme
from capture_station.scanners.base import FINGER_NAMES, FingerprintCapture, FingerprintScanner
from capture_station.scanners.folder import FolderScanner

KNOWN_SCHEMES: tuple[str, ...] = ("folder",)

__all__ = ["FINGER_NAMES", "FingerprintCapture", "FingerprintScanner", "FolderScanner",
           "KNOWN_SCHEMES", "open_scanner"]


def open_scanner(uri: str, *, ppi: int = 500) -> FingerprintScanner:
    """Open the scanner `uri` names: `folder:PATH`, `folder://PATH` or a bare directory."""
    if Path(uri).is_dir():
        return FolderScanner(uri, ppi=ppi)
    scheme, sep, rest = uri.partition(":")
    if sep and scheme.lower() == "folder":
        path = rest[2:] if rest.startswith("//") else rest
        return FolderScanner(path, ppi=ppi)
    shown = f"scheme {scheme!r}" if sep else "no scheme and not an existing directory"
    raise UnknownScannerScheme(
        f"cannot open scanner {uri!r}: {shown}; known schemes: "
        + ", ".join(f"{s}:" for s in KNOWN_SCHEMES))
