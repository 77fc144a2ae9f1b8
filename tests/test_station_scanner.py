"""Folder scanner: finger positions from file names; scanner URIs."""

from __future__ import annotations

import pytest

from capture_station.errors import ScannerError, UnknownFingerName, UnknownScannerScheme
from capture_station.scanners import FolderScanner, open_scanner
from capture_station.scanners.folder import finger_position_from_name


@pytest.mark.parametrize("name, position", [
    ("02.png", 2), ("2_anything.png", 2), ("10.bmp", 10), ("1-scan.tif", 1),
    ("right_index.png", 2), ("left-thumb.tif", 6), ("LEFT_LITTLE.PNG", 10),
    ("Right Middle 2.jpg", 3), ("left_pinky.png", 10), ("right_ring_retry.png", 4),
])
def test_finger_position_from_name(name, position):
    assert finger_position_from_name(name) == position


@pytest.mark.parametrize("name", ["11.png", "00.png", "thumb.png", "right.png",
                                  "indexright.png", "middle_left.png"])
def test_bad_names_are_rejected_naming_the_file(name):
    with pytest.raises(UnknownFingerName, match=name.replace(".", r"\.")):
        finger_position_from_name(name)


def test_folder_scanner_replays_files_in_position_order(tmp_path):
    (tmp_path / "left_thumb.png").write_bytes(b"six")
    (tmp_path / "02.png").write_bytes(b"two")
    (tmp_path / "notes.txt").write_text("ignored: not an image")
    (tmp_path / ".hidden.png").write_bytes(b"ignored")
    scanner = FolderScanner(tmp_path, ppi=1000)
    captures = list(scanner.captures())
    assert [(c.position, c.image, c.ppi) for c in captures] == [(2, b"two", 1000),
                                                                 (6, b"six", 1000)]
    assert captures[0].scanner_id == f"folder:{tmp_path.resolve()}"


def test_folder_scanner_fails_on_open_for_a_bad_name(tmp_path):
    (tmp_path / "02.png").write_bytes(b"ok")
    (tmp_path / "mystery.png").write_bytes(b"?")
    with pytest.raises(UnknownFingerName, match="mystery.png"):
        FolderScanner(tmp_path)


def test_open_scanner(tmp_path):
    (tmp_path / "01.png").write_bytes(b"1")
    assert open_scanner(f"folder:{tmp_path}", dev=True).positions == (1,)
    assert open_scanner(f"folder://{tmp_path}", dev=True).positions == (1,)
    assert open_scanner(str(tmp_path), dev=True).positions == (1,)
    with pytest.raises(UnknownScannerScheme, match="'usb'.*known schemes: folder:, sbi:"):
        open_scanner("usb://0")
    with pytest.raises(UnknownScannerScheme, match="known schemes"):
        open_scanner(str(tmp_path / "missing"))
    with pytest.raises(ScannerError, match="not a directory"):
        open_scanner(f"folder:{tmp_path / 'missing'}", dev=True)


def test_a_production_station_refuses_folders_and_untrusted_sbi(tmp_path):
    """Without dev mode only an SBI device with a trust file is opened (its twins, with
    --dev, are above and in tests/test_fingerprint_sbi.py)."""
    (tmp_path / "01.png").write_bytes(b"1")
    for uri in (f"folder:{tmp_path}", f"folder://{tmp_path}", str(tmp_path)):
        with pytest.raises(ScannerError, match="development station"):
            open_scanner(uri)
    # Refused before any device is contacted: nothing listens on port 9.
    with pytest.raises(ScannerError, match="no trust file.*--dev"):
        open_scanner("sbi://127.0.0.1:9")


def test_folder_scanner_paces_like_a_person_at_the_scanner(tmp_path):
    import time

    for name in ("01.png", "02.png", "03.png"):
        (tmp_path / name).write_bytes(b"x")
    scanner = open_scanner(f"folder:{tmp_path}?interval=0.2", dev=True)
    started = time.monotonic()
    captured = [(c.position, round(time.monotonic() - started, 1))
                for c in scanner.captures()]
    assert [p for p, _ in captured] == [1, 2, 3]
    assert captured[0][1] < 0.15 and captured[2][1] >= 0.4  # first at once, then spaced
    assert open_scanner(f"folder:{tmp_path}", dev=True).interval_s == 0.0
    for bad, message in (("?interval=soon", "number of seconds"), ("?interval=-1", "0-600"),
                         ("?speed=2", "unknown option")):
        with pytest.raises(ScannerError, match=message):
            open_scanner(f"folder:{tmp_path}{bad}", dev=True)
