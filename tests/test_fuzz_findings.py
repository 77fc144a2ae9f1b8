"""What the fuzzers found (tests/fuzz, bench/REPORT-fuzz.md), each as the smallest input,
made here in code, with its twin: the well-formed input still accepted."""

from __future__ import annotations

import datetime as dt
import io
import struct

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from capture_station.scanners.sbi import SbiRecordRefused, verify_jws
from tests.fuzz.targets import ocr_lines
from lebong_contract.api.v1 import types_pb2
from verifier.config import ImagingConfig
from verifier.documents.akta import read_akta_lines
from verifier.documents.mrz import check_digit, mrz_date
from verifier.documents.normalise import parse_dmy
from verifier.documents.words import ordinal_to_number, words_to_date
from lebong_contract.errors import ImageRejected, MalformedMessage
from lebong_contract.sbi_record import _b64url, sign_jws
from verifier.imaging import decode_image
from verifier.server.convert import application_from_pb


def _tiff(frames: list[list[tuple[int, int, int]]]) -> bytes:
    """A little-endian TIFF of one 1x1 grey pixel whose IFDs hold these (tag, type, value)
    entries."""
    pixel_at = 8
    out = bytearray(b"II*\x00" + struct.pack("<I", pixel_at + 1) + b"\x80")
    for i, entries in enumerate(frames):
        entries = [(t, k, pixel_at if t == 273 else v) for t, k, v in entries]
        next_ifd = len(out) + 2 + 12 * len(entries) + 4 if i + 1 < len(frames) else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHII", tag, kind, 1, value)
        out += struct.pack("<I", next_ifd)
    return bytes(out)


# ImageWidth, ImageLength, BitsPerSample, Compression (none), Photometric (black is zero),
# StripOffsets, RowsPerStrip, StripByteCounts.
ONE_PIXEL = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
             (278, 3, 1), (279, 4, 1)]


def test_tiff_whose_second_frame_has_no_size_is_refused_as_corrupt() -> None:
    """Counting a TIFF's frames reads every IFD; Pillow's TypeError for the second one's
    missing size escaped the gate (a server INTERNAL error) before the fix."""
    headless = [(273, 4, 0)]
    with pytest.raises(ImageRejected) as info:
        decode_image(_tiff([ONE_PIXEL, headless]), ImagingConfig())
    assert info.value.reason == "IMAGE_CORRUPT"
    assert "frame" in info.value.message


def test_tiff_with_two_whole_frames_still_decodes() -> None:
    image = decode_image(_tiff([ONE_PIXEL, ONE_PIXEL]), ImagingConfig())
    assert image.source_format == "TIFF" and image.rgb.shape == (1, 1, 3)
    assert image.rgb[0, 0, 0] == 0x80
    buf = io.BytesIO()
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(buf, "TIFF", save_all=True,
                                                     append_images=[Image.new("L", (2, 2))])
    assert decode_image(buf.getvalue(), ImagingConfig()).rgb.shape == (2, 2, 3)


def _form(year: int, month: int, day: int) -> types_pb2.ApplicationData:
    return types_pb2.ApplicationData(date_of_birth=types_pb2.Date(year=year, month=month,
                                                                  day=day))


def test_form_birth_date_the_month_lacks_is_refused() -> None:
    """31 February passed the range check, and the rules, unable to parse it, then compared
    no birth date against the documents."""
    with pytest.raises(MalformedMessage) as info:
        application_from_pb(_form(2023, 2, 31))
    assert "application.date_of_birth 2023-2-31 is not a date" == info.value.message


def test_form_birth_date_on_a_leap_day_is_accepted() -> None:
    assert application_from_pb(_form(2024, 2, 29))["date_of_birth"] == "2024-02-29"
    with pytest.raises(MalformedMessage):
        application_from_pb(_form(2023, 2, 29))


def test_non_ascii_digits_do_not_break_mrz_check_digits_and_dates() -> None:
    """str.isdigit() holds for "²", which int() refuses."""
    assert check_digit("²") == check_digit("<") == "0"
    assert mrz_date("1²0101", future=False) is None
    assert mrz_date("900101", future=False) == dt.date(1990, 1, 1)
    assert check_digit("520727") == "3"  # ICAO 9303 part 3's example


def test_ocr_date_with_a_superscript_digit_is_unreadable_not_an_error() -> None:
    assert parse_dmy("17-08-199²") is None
    assert parse_dmy("17-08-1990") == dt.date(1990, 8, 17)
    assert parse_dmy("17081990") == dt.date(1990, 8, 17)


def test_child_order_in_odd_digits_is_unreadable_not_an_error() -> None:
    assert ordinal_to_number("²") is None
    assert ordinal_to_number("9" * 5000) is None  # past int()'s digit limit
    assert ordinal_to_number("3") == 3 and ordinal_to_number("kedua") == 2
    reading = read_akta_lines(ocr_lines([["anak", "ke", ":", "²,", "laki-laki"]]))
    assert reading.fields[0].name == "anak_ke" and reading.fields[0].confidence == 0.0
    reading = read_akta_lines(ocr_lines([["anak", "ke", ":", "tiga,", "laki-laki"]]))
    assert reading.fields[0].value == "3"


KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))


@pytest.mark.parametrize("header", [b"[]", b"1", b"[" * 100_000])
def test_sbi_record_whose_header_is_no_json_object_is_refused(header: bytes) -> None:
    """Headers that are JSON but not an object (AttributeError) or nested past Python's
    recursion limit (RecursionError) escaped verify_jws."""
    with pytest.raises(SbiRecordRefused, match="capture record"):
        verify_jws(f"{_b64url(header)}.e30.AAAA", KEY.public_key())


def test_sbi_record_signed_by_the_key_is_accepted() -> None:
    assert verify_jws(sign_jws({"bioValue": "AA=="}, KEY), KEY.public_key()) == {
        "bioValue": "AA=="}


def test_birth_date_in_words_beyond_any_calendar_is_unreadable_not_an_error() -> None:
    """The fuzzer's minimal input: "juta juta" days overflowed dt.date (OverflowError, not
    ValueError)."""
    assert words_to_date("JUT JUT JANUAR NOL") is None
    assert words_to_date("tujuh belas Agustus seribu sembilan ratus sembilan puluh") == \
        dt.date(1990, 8, 17)
