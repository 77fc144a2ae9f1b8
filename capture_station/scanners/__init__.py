"""Fingerprint scanner drivers, chosen by URI.

    folder:PATH[?interval=S]   (or a bare existing directory)   replay image files, see `folder.py`
    sbi://HOST[:PORT][?score=&timeout=&retries=&trust=]   MOSIP SBI 2.0 device, see `sbi.py`

A production station takes signed prints only: an SBI device whose key a trust file lists.
The folder scanner and an SBI device without a trust file are for a development station
(`dev=True`, the CLI's --dev): their images carry no record the verifier can attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs

from capture_station.errors import ScannerError, UnknownScannerScheme
from capture_station.scanners.base import FINGER_NAMES, FingerprintCapture, FingerprintScanner
from capture_station.scanners.folder import FolderScanner
from capture_station.scanners.sbi import SbiScanner, open_sbi

KNOWN_SCHEMES: tuple[str, ...] = ("folder", "sbi")

__all__ = ["FINGER_NAMES", "FingerprintCapture", "FingerprintScanner", "FolderScanner",
           "KNOWN_SCHEMES", "SbiScanner", "open_scanner"]


def _folder_interval(uri: str, query: str) -> float:
    """`interval=S` is the one option of a folder scanner."""
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"interval"})
    if unknown:
        raise ScannerError(f"cannot open scanner {uri!r}: unknown option(s) {', '.join(unknown)}"
                           "; a folder scanner takes interval=SECONDS")
    try:
        return float(options["interval"][-1]) if "interval" in options else 0.0
    except ValueError:
        raise ScannerError(f"cannot open scanner {uri!r}: interval must be a number of "
                           "seconds") from None


def _development_only(uri: str, dev: bool) -> None:
    if not dev:
        raise ScannerError(f"cannot open scanner {uri!r}: a folder of images is for a "
                           "development station (--dev); the counter takes prints from an "
                           "SBI device listed in a trust file: sbi://HOST?trust=KEYFILE")


def open_scanner(uri: str, *, ppi: int = 500, exceptions: Sequence[int] = (),
                 dev: bool = False, session_id: str = "") -> FingerprintScanner:
    """Open the scanner `uri` names: `folder:PATH`, `folder://PATH`, a bare directory, or
    `sbi://HOST[:PORT]`. An SBI device is told the `exceptions` (fingers not to capture),
    and its records name `session_id` (the client session the captures are for).
    Folders, and SBI devices without a trust file, only when `dev` (see the module doc)."""
    if Path(uri).is_dir():
        _development_only(uri, dev)
        return FolderScanner(uri, ppi=ppi)
    scheme, sep, rest = uri.partition(":")
    if sep and scheme.lower() == "sbi":
        return open_sbi(uri, exceptions=exceptions, dev=dev, session_id=session_id)
    if sep and scheme.lower() == "folder":
        _development_only(uri, dev)
        path, _, query = (rest[2:] if rest.startswith("//") else rest).partition("?")
        return FolderScanner(path, ppi=ppi, interval_s=_folder_interval(uri, query))
    shown = f"scheme {scheme!r}" if sep else "no scheme and not an existing directory"
    raise UnknownScannerScheme(
        f"cannot open scanner {uri!r}: {shown}; known schemes: "
        + ", ".join(f"{s}:" for s in KNOWN_SCHEMES))
