"""What the fuzzers feed each parser, and what each parser may answer.

A target pairs a Hypothesis strategy (arbitrary input, and realistic input from the project's
own encoders and synthetic generators, mutated) with a check that calls the parser and
asserts that the outcome is one its contract documents: a value of the documented shape, or
the documented error. Anything else (another exception, a value out of bounds) fails the
check; Hypothesis then shrinks the input to a minimal one. tests/test_fuzz.py runs every
target briefly and deterministically; bench/fuzz.py runs them for minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from capture_station.scanners.sbi import SbiRecordRefused
from capture_station.scanners.sbi import verify_jws as station_verify_jws
from lebong_contract.api.v1 import capture_pb2, precheck_pb2, types_pb2
from verifier.config import ImagingConfig
from verifier.documents import ktp
from verifier.documents.akta import AKTA_FIELDS, read_akta_lines
from verifier.documents.labels import labelled_values
from verifier.documents.mrz import (FORMATS, MRZ_ALPHABET, check_digit, mrz_date, parse_mrz,
                                    td3_lines)
from verifier.documents.mrz_cells import cell_line, line_grid
from verifier.documents.mrz_reader import (_OPTIONAL_FIELDS, _constrain, _filler_field,
                                           _filler_tail, _fit_width, _format_for)
from verifier.documents.nik import decode_nik
from verifier.documents.ocr import OcrChar, OcrLine, OcrWord
from verifier.documents.passport import mrz_fields
from verifier.documents.normalise import digits_only, parse_dmy
from verifier.documents.words import (MONTHS, UNITS, number_to_words, ordinal_to_number,
                                      words_to_date, words_to_number)
from lebong_contract.errors import ImageRejected, InvalidInput
from lebong_contract import sbi_record
from verifier.fingerprint.provenance import Attribution, attribute
from lebong_contract.sbi_record import (GENESIS_HASH, SbiCaptureRecord, _b64url,
                                        public_key_text, sign_jws)
from verifier.imaging import decode_image
from verifier.item_analysis import ReadField
from verifier.server.convert import application_from_pb, enum_name
from verifier.synthetic.identity import MONTHS_ID, random_identity
from verifier.synthetic.ktp import ktp_fields


@dataclass(frozen=True)
class Target:
    name: str
    what: str  # the parser, for the report
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]


# -- the decode gate ----------------------------------------------------------------------------

# The gate's own limits, smaller than the defaults so that an image the mutations make huge
# but still allowed decodes in milliseconds; the checks on the header are the same code.
FUZZ_LIMITS = replace(ImagingConfig(), max_pixels=1_000_000, max_side_px=2_000)
GATE_REASONS = frozenset({"IMAGE_EMPTY", "IMAGE_TOO_MANY_BYTES", "IMAGE_UNSUPPORTED_FORMAT",
                          "IMAGE_TRUNCATED", "IMAGE_CORRUPT", "IMAGE_TOO_MANY_PIXELS"})
_EXTENSIONS = (".png", ".jpg", ".tiff", ".bmp", ".webp")
# Sizes a header may claim: zero, one, at and around the limits, 16- and 32-bit extremes.
_CLAIMED_SIDES = (0, 1, 2, 999, 1000, 1001, 1999, 2000, 2001, 12_000, 12_001, 16_383,
                  65_535, 100_000, 2**31 - 1, 2**32 - 1)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _jpeg_sof(data: bytes) -> int | None:
    """Offset of the frame header's marker (SOF0-SOF15 but DHT, JPG, DAC)."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return i
        i += 2 + length
    return None


def _tiff_size_entries(data: bytes) -> tuple[str, list[int]]:
    """Byte order and the offsets of the first IFD's ImageWidth / ImageLength entries."""
    order = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack(order + "I", data[4:8])[0]
    if ifd + 2 > len(data):
        return order, []
    count = struct.unpack(order + "H", data[ifd:ifd + 2])[0]
    found = []
    for k in range(count):
        at = ifd + 2 + 12 * k
        if at + 12 > len(data):
            break
        if struct.unpack(order + "H", data[at:at + 2])[0] in (256, 257):
            found.append(at)
    return order, found


def with_claimed_size(data: bytes, width: int, height: int) -> bytes:
    """`data` with its header claiming width x height pixels (each clamped to the most the
    format's field holds), pixel data unchanged; other data as given."""
    def most(value: int, bits: int) -> int:
        return max(0, min(value, (1 << bits) - 1))

    out = bytearray(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 33:
        ihdr = struct.pack(">II", most(width, 32), most(height, 32)) + bytes(data[24:29])
        out[8:33] = _png_chunk(b"IHDR", ihdr)
    elif data[:2] == b"BM" and len(data) >= 26:
        out[18:26] = struct.pack("<II", most(width, 31), most(height, 31))
    elif data[:2] == b"\xff\xd8" and (sof := _jpeg_sof(data)) is not None and sof + 9 <= len(data):
        out[sof + 5:sof + 9] = struct.pack(">HH", most(height, 16), most(width, 16))
    elif data[:4] in (b"II*\x00", b"MM\x00*") and len(data) >= 8:
        order, entries = _tiff_size_entries(data)
        for at, value in zip(entries, (width, height)):
            tag = struct.unpack(order + "H", data[at:at + 2])[0]
            out[at:at + 12] = struct.pack(order + "HHII", tag, 4, 1, most(value, 32))
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        kind = data[12:16]
        # VP8L and VP8X store the size less one; VP8 in 14 bits.
        w1, h1 = most(width - 1, 14), most(height - 1, 14)
        if kind == b"VP8L":
            rest = struct.unpack("<I", data[21:25])[0] & 0xF0000000
            out[21:25] = struct.pack("<I", w1 | (h1 << 14) | rest)
        elif kind == b"VP8 ":
            out[26:30] = struct.pack("<HH", most(width, 14), most(height, 14))
        elif kind == b"VP8X":
            out[24:30] = most(width - 1, 24).to_bytes(3, "little") \
                + most(height - 1, 24).to_bytes(3, "little")
    return bytes(out)


@st.composite
def encoded_images(draw: st.DrawFn) -> bytes:
    """A small random image, encoded by OpenCV in one of the gate's formats."""
    ext = draw(st.sampled_from(_EXTENSIONS))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    channels = draw(st.sampled_from((1, 3, 4)))
    wide = ext in (".png", ".tiff") and draw(st.booleans())  # 16-bit samples
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (h, w) if channels == 1 else (h, w, channels)
    pixels = rng.integers(0, 65536 if wide else 256, shape, dtype=np.uint16 if wide else np.uint8)
    ok, buf = cv2.imencode(ext, pixels)
    assert ok
    return buf.tobytes()


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """An encoded image after 1-3 of: truncation, bit flips, bytes overwritten, a header
    spliced from another image, a claimed size."""
    data = draw(encoded_images())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("truncate", "flip", "overwrite", "splice", "size")))
        if not data:
            break
        if kind == "truncate":
            data = data[:draw(st.integers(0, len(data) - 1))]
        elif kind == "flip":
            out = bytearray(data)
            for _ in range(draw(st.integers(1, 8))):
                out[draw(st.integers(0, len(out) - 1))] ^= 1 << draw(st.integers(0, 7))
            data = bytes(out)
        elif kind == "overwrite":
            at = draw(st.integers(0, len(data) - 1))
            patch = draw(st.binary(min_size=1, max_size=16))
            data = data[:at] + patch + data[at + len(patch):]
        elif kind == "splice":
            other = draw(encoded_images())
            cut = draw(st.integers(0, min(len(data), len(other))))
            data = other[:cut] + data[cut:]
        else:
            data = with_claimed_size(data, draw(st.sampled_from(_CLAIMED_SIDES)),
                                     draw(st.sampled_from(_CLAIMED_SIDES)))
    return data


def check_decode_gate(data: bytes, limits: ImagingConfig = FUZZ_LIMITS) -> None:
    """A decoded 8-bit RGB image within the limits, or ImageRejected with a known reason."""
    try:
        image = decode_image(data, limits)
    except ImageRejected as exc:
        assert exc.reason in GATE_REASONS, exc.reason
        assert exc.message
        return
    rgb = image.rgb
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3, (rgb.dtype, rgb.shape)
    h, w = rgb.shape[:2]
    assert 0 < h <= limits.max_side_px and 0 < w <= limits.max_side_px, (w, h)
    assert w * h <= limits.max_pixels, (w, h)


# -- proto messages and the conversion layer ----------------------------------------------------

_INT32 = st.integers(-2**31, 2**31 - 1)


def enum_numbers(enum_type: Any) -> st.SearchStrategy[int]:
    """A known number of the enum (so that checks behind it run), or any other."""
    return st.one_of(st.sampled_from(enum_type.values()), st.integers(-3, 40), _INT32)


_TEXT = st.one_of(st.text(max_size=40), st.text(max_size=2000))
_BLOBS = st.one_of(st.binary(max_size=64), st.binary(max_size=4096))


@st.composite
def _mostly(draw: st.DrawFn, usual: st.SearchStrategy[int], edges: tuple[int, ...]) -> int:
    """A number from `usual` nine times in ten (so that a date's fields are often all in
    range together), else an edge or any int32."""
    if draw(st.integers(0, 9)):
        return draw(usual)
    return draw(st.one_of(st.sampled_from(edges), _INT32))


@st.composite
def applications(draw: st.DrawFn) -> types_pb2.ApplicationData:
    app = types_pb2.ApplicationData(
        full_name=draw(_TEXT), nik=draw(_TEXT), place_of_birth=draw(_TEXT),
        sex=draw(enum_numbers(types_pb2.Sex)),
        passport_type=draw(enum_numbers(types_pb2.PassportType)),
        parents_consent=draw(st.booleans()),
        application_kind=draw(enum_numbers(types_pb2.ApplicationKind)))
    if draw(st.booleans()):
        app.date_of_birth.CopyFrom(types_pb2.Date(
            year=draw(_mostly(st.integers(1900, 2100), (0, 1899, 2101))),
            month=draw(_mostly(st.integers(1, 12), (-1, 0, 13))),
            day=draw(_mostly(st.integers(1, 31), (-1, 0, 32)))))
    return app


_SEQUENCES = st.one_of(st.integers(0, 5), st.integers(0, 2**64 - 1))


@st.composite
def station_messages(draw: st.DrawFn) -> capture_pb2.StationMessage:
    """One station message with arbitrary field values (unknown enum numbers, empty or odd
    bytes, negative ppi, absurd sequence numbers)."""
    m = capture_pb2.StationMessage(
        client_session_id=draw(st.one_of(st.text(max_size=80), st.uuids().map(str))),
        sequence=draw(_SEQUENCES))
    which = draw(st.sampled_from(("start", "frame", "document", "fingerprint",
                                  "fingerprint_exception", "finish", None)))
    if which == "start":
        m.start.CopyFrom(capture_pb2.SessionStart(station_id=draw(_TEXT),
                                                  officer_id=draw(_TEXT),
                                                  application=draw(applications())))
    elif which == "frame":
        m.frame.CopyFrom(capture_pb2.CameraFrame(
            jpeg=draw(_BLOBS), captured_at_unix_ms=draw(st.integers(-2**63, 2**63 - 1))))
    elif which == "document":
        m.document.CopyFrom(capture_pb2.DocumentImage(
            kind=draw(enum_numbers(types_pb2.DocumentKind)), image=draw(_BLOBS)))
    elif which == "fingerprint":
        m.fingerprint.CopyFrom(capture_pb2.FingerprintImage(
            position=draw(enum_numbers(types_pb2.FingerPosition)), image=draw(_BLOBS),
            ppi=draw(st.one_of(st.sampled_from((0, -1, 500, 1000)), _INT32)),
            scanner_id=draw(_TEXT)))
    elif which == "fingerprint_exception":
        m.fingerprint_exception.CopyFrom(capture_pb2.FingerprintException(
            position=draw(enum_numbers(types_pb2.FingerPosition)),
            reason=draw(enum_numbers(capture_pb2.FingerprintExceptionReason)),
            officer_note=draw(_TEXT)))
    elif which == "finish":
        m.finish.SetInParent()
    return m


def _enum_or_invalid(enum_type: Any, value: int, field: str, prefix: str) -> None:
    try:
        name = enum_name(enum_type, value, field, prefix)
    except InvalidInput as exc:
        assert field in exc.message
        return
    assert name is None or (name and not name.startswith(prefix)), name


def check_application(app: types_pb2.ApplicationData) -> None:
    """The form as a dict whose birth date is a real ISO date, or InvalidInput naming the
    field."""
    try:
        form = application_from_pb(app)
    except InvalidInput as exc:
        assert exc.message.startswith("application."), exc.message
        return
    if form["date_of_birth"] is not None:
        dt.date.fromisoformat(form["date_of_birth"])  # the rules parse it so


def check_station_message(m: capture_pb2.StationMessage) -> None:
    """Every proto -> domain conversion the servicer applies to this message."""
    which = m.WhichOneof("payload")
    if which == "start":
        check_application(m.start.application)
    elif which == "document":
        _enum_or_invalid(types_pb2.DocumentKind, m.document.kind, "document.kind",
                         "DOCUMENT_KIND_")
    elif which == "fingerprint":
        _enum_or_invalid(types_pb2.FingerPosition, m.fingerprint.position,
                         "fingerprint.position", "FINGER_POSITION_")
    elif which == "fingerprint_exception":
        e = m.fingerprint_exception
        _enum_or_invalid(types_pb2.FingerPosition, e.position, "fingerprint_exception.position",
                         "FINGER_POSITION_")
        _enum_or_invalid(capture_pb2.FingerprintExceptionReason, e.reason,
                         "fingerprint_exception.reason", "FINGERPRINT_EXCEPTION_REASON_")


def check_station_message_bytes(data: bytes) -> None:
    """Bytes off the wire: a message (then converted) or DecodeError."""
    try:
        m = capture_pb2.StationMessage.FromString(data)
    except DecodeError:
        return
    check_station_message(m)


def check_photo_request_bytes(data: bytes) -> None:
    try:
        request = precheck_pb2.PhotoRequest.FromString(data)
    except DecodeError:
        return
    _enum_or_invalid(precheck_pb2.Profile, request.profile, "profile", "PROFILE_")


def _wire_bytes(messages: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, and serialised messages with bytes flipped, cut or appended."""
    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(messages).SerializeToString())
        for _ in range(draw(st.integers(0, 4))):
            if data and draw(st.booleans()):
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
            else:
                data[draw(st.integers(0, len(data))):0] = draw(st.binary(min_size=1, max_size=8))
        return bytes(data[:draw(st.integers(0, len(data)))]) if draw(st.booleans()) else bytes(data)

    return st.one_of(st.binary(max_size=512), mutated())


@st.composite
def photo_requests(draw: st.DrawFn) -> precheck_pb2.PhotoRequest:
    return precheck_pb2.PhotoRequest(photo_id=draw(_TEXT), image=draw(_BLOBS),
                                     profile=draw(enum_numbers(precheck_pb2.Profile)))


# -- OCR text: realistic lines and their mutations ----------------------------------------------

_CHAR_W, _SPACE, _LINE_H = 14, 10, 30
# What OCR makes of print: look-alikes, specks, another script, nothing.
_OCR_SLIPS = "0OoDQ1Il|!iS5sZ2B8G6T7A4gq:;.,-_~'\"`»«#£*—²³¹٣०"


def ocr_lines(rows: list[list[str]], confidences: list[float] | None = None) -> list[OcrLine]:
    """OCR lines of these words, laid out left to right, top to bottom."""
    lines, k = [], 0
    for y, words in enumerate(rows):
        x, out = 20, []
        for text in words:
            if not text:
                continue
            conf = confidences[k % len(confidences)] if confidences else 0.9
            k += 1
            right = x + _CHAR_W * len(text)
            out.append(OcrWord(text, conf, (x, y * _LINE_H, right, y * _LINE_H + 22)))
            x = right + _SPACE
        if out:
            lines.append(OcrLine(tuple(out)))
    return lines


@st.composite
def mutated_rows(draw: st.DrawFn, rows: list[list[str]]) -> list[list[str]]:
    """OCR's slips on the words: characters changed, lost or added, words split, merged or
    lost, lines lost, swapped or added."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 12))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        op = draw(st.sampled_from(("char", "drop_char", "add_char", "split", "merge",
                                   "drop_word", "drop_line", "swap_lines", "add_line")))
        w = draw(st.integers(0, len(row) - 1)) if row else None
        if op == "drop_line":
            del rows[r]
        elif op == "swap_lines":
            s = draw(st.integers(0, len(rows) - 1))
            rows[r], rows[s] = rows[s], rows[r]
        elif op == "add_line":
            rows.insert(r, draw(st.lists(st.text(min_size=1, max_size=12), max_size=6)))
        elif w is None:
            continue
        elif op == "drop_word":
            del row[w]
        elif op == "merge" and w + 1 < len(row):
            row[w:w + 2] = [row[w] + row[w + 1]]
        elif row[w]:
            word = row[w]
            i = draw(st.integers(0, len(word) - 1))
            slip = draw(st.one_of(st.sampled_from(_OCR_SLIPS), st.characters()))
            if op == "char":
                row[w] = word[:i] + slip + word[i + 1:]
            elif op == "drop_char":
                row[w] = word[:i] + word[i + 1:]
            elif op == "add_char":
                row[w] = word[:i] + slip + word[i:]
            elif op == "split" and i:
                row[w:w + 1] = [word[:i], word[i:]]
    return rows


@st.composite
def ocr_pages(draw: st.DrawFn, realistic: Callable[[int], list[list[str]]]
              ) -> list[OcrLine]:
    """Lines of a realistic page from `realistic(seed)`, mutated; or lines of random words."""
    confidences = draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8))
    if draw(st.integers(0, 4)) == 0:
        rows = draw(st.lists(st.lists(st.text(min_size=1, max_size=15), min_size=1,
                                      max_size=8), max_size=20))
    else:
        rows = draw(mutated_rows(realistic(draw(st.integers(0, 10_000)))))
    return ocr_lines(rows, confidences)


def _words(text: str) -> list[str]:
    return text.split()


def ktp_rows(seed: int) -> list[list[str]]:
    """The card's text as OCR reads a clean synthetic KTP (verifier.synthetic.ktp)."""
    f = ktp_fields(random_identity(random.Random(seed)),
                   random.Random(seed).choice(("SEUMUR HIDUP", "17-08-2031")))
    born = dt.date.fromisoformat(f["tanggal_lahir"]).strftime("%d-%m-%Y")
    rows = [["PROVINSI", *_words(f["provinsi"])], _words(f["kabupaten_kota"]),
            ["NIK", ":", f["nik"]]]
    labelled = (("Nama", f["nama"]), ("Tempat/Tgl Lahir", f"{f['tempat_lahir']}, {born}"),
                ("Jenis Kelamin", f"{f['jenis_kelamin']} Gol. Darah : {f['golongan_darah']}"),
                ("Alamat", f["alamat"]), ("RT/RW", f["rt_rw"]),
                ("Kel/Desa", f["kelurahan_desa"]), ("Kecamatan", f["kecamatan"]),
                ("Agama", f["agama"]), ("Status Perkawinan", f["status_perkawinan"]),
                ("Pekerjaan", f["pekerjaan"]), ("Kewarganegaraan", f["kewarganegaraan"]),
                ("Berlaku Hingga", f["berlaku_hingga"]))
    return rows + [[*_words(label), ":", *_words(value)] for label, value in labelled]


def akta_rows(seed: int) -> list[list[str]]:
    """The body of a synthetic birth certificate (verifier.synthetic.akta) as OCR reads it."""
    rng = random.Random(seed)
    p = random_identity(rng)
    issued = p.birth_date + dt.timedelta(days=rng.randint(7, 3000))
    sex = "laki-laki" if p.sex == "MALE" else "perempuan"
    body = (("Bahwa di", p.birth_place),
            ("pada tanggal", f"{number_to_words(p.birth_date.day)} "
                             f"{MONTHS_ID[p.birth_date.month - 1]}"),
            ("tahun", number_to_words(p.birth_date.year)), ("telah lahir", p.name),
            ("anak ke", f"{number_to_words(p.child_order)}, {sex}"),
            ("dari ayah", p.father_name), ("dan ibu", p.mother_name))
    number = f"{p.regency_code}-LU-{issued.strftime('%d%m%Y')}-{rng.randint(1, 9999):04d}"
    return ([["KUTIPAN", "AKTA", "KELAHIRAN"], ["Nomor", ":", number]]
            + [[*_words(label), ":", *_words(value)] for label, value in body]
            + [["Dikeluarkan", "di", p.regency.title()],
               ["pada", "tanggal", str(issued.day), MONTHS_ID[issued.month - 1], str(issued.year)],
               ["KEPALA", "DINAS", "KEPENDUDUKAN"], ["DAN", "PENCATATAN", "SIPIL"],
               _words(p.regency)])


def _check_field(f: ReadField | None, names: tuple[str, ...]) -> None:
    if f is None:
        return
    assert f.name in names, f.name
    assert isinstance(f.value, str) and isinstance(f.raw_text, str)
    assert 0.0 <= f.confidence <= 1.0, f
    assert f.corrected_by in ("", "gazetteer") or f.corrected_by.startswith("vocabulary:"), f


def check_ktp_lines(lines: list[OcrLine]) -> None:
    """The KTP reader's text stages (labels, header, each field's parser, the NIK): a field
    or nothing, never an exception. The image re-reads of `read_ktp` are not text."""
    names = ktp.KTP_FIELDS
    values = labelled_values(lines, ktp._LABELS)
    assert set(values) <= set(ktp._LABELS.values())
    for f in ktp._header(lines):
        _check_field(f, names)
    for key, value in values.items():
        text = value.text
        for form in (ktp._nik_form, ktp._date_form, ktp._rt_rw_form):
            parsed, ok = form(text)
            assert isinstance(parsed, str) and isinstance(ok, bool)
        decode_nik(text)
        if key == "jenis_kelamin":
            sex, blood = ktp._split_jenis_kelamin(value)
            _check_field(ktp._snapped_field("jenis_kelamin", sex, ktp.vocab.SEXES,
                                             "vocabulary:sexes"), names)
            _check_field(ktp._blood_type(blood), names)
        elif key in ("kecamatan", "kelurahan_desa", "tempat_tanggal_lahir"):
            _check_field(ktp._place_field("kecamatan", value, ktp._birth_places()), names)
        else:
            _check_field(ktp._snapped_field("agama", value, ktp.vocab.RELIGIONS,
                                             "vocabulary:religions"), names)


def check_akta_lines(lines: list[OcrLine]) -> None:
    reading = read_akta_lines(lines)
    assert reading.lines_read == len(lines)
    for f in reading.fields:
        _check_field(f, AKTA_FIELDS)


def check_nik(text: str) -> None:
    """decode_nik never raises: what it cannot decode is in `problems`."""
    info = decode_nik(text)
    assert info.valid == (not info.problems)
    if info.valid:
        assert info.birth_date is not None and info.sex is not None and info.serial


_NUMBER_WORDS = (*UNITS, *MONTHS, "sepuluh", "sebelas", "seratus", "seribu", "belas", "puluh",
                 "ratus", "ribu", "juta", "tahun", "ke", "ke-", "kedua", "pertama", ",")
_DIGITISH = "0123456789-./ ,OoIlSsBZ|!²³¹٣०"


def check_field_text(text: str) -> None:
    """The value parsers under the KTP and akta readers: a value or None, never an error."""
    assert set(digits_only(text)) <= set("0123456789")
    for parsed in (parse_dmy(text), words_to_date(text)):
        assert parsed is None or isinstance(parsed, dt.date)
    for number in (ordinal_to_number(text), words_to_number(text)):
        assert number is None or isinstance(number, int)
    for form in (ktp._nik_form, ktp._date_form, ktp._rt_rw_form):
        value, ok = form(text)
        assert isinstance(value, str) and isinstance(ok, bool)


# -- machine-readable zones ---------------------------------------------------------------------

_MRZ_CHARS = st.sampled_from(MRZ_ALPHABET)


def _realistic_td3(seed: int) -> list[str]:
    rng = random.Random(seed)
    p = random_identity(rng)
    names = p.name.split()
    expiry = p.issue_date + dt.timedelta(days=3652)
    return list(td3_lines("P", "IDN", names[-1], " ".join(names[:-1]),
                          rng.choice("ABCX") + f"{rng.randint(0, 9999999):07d}", "IDN",
                          p.birth_date, "M" if p.sex == "MALE" else "F", expiry))


@st.composite
def mrz_reads(draw: st.DrawFn) -> list[str]:
    """What Tesseract reads off a zone: a realistic TD3 with slips (characters changed, lost,
    doubled; fillers read as K, E, X), or lines of MRZ characters of any length."""
    if draw(st.booleans()):
        return draw(st.lists(st.text(_MRZ_CHARS, max_size=52), min_size=2, max_size=3))
    lines = _realistic_td3(draw(st.integers(0, 10_000)))
    for _ in range(draw(st.integers(0, 8))):
        r = draw(st.integers(0, len(lines) - 1))
        line = lines[r]
        i = draw(st.integers(0, max(0, len(line) - 1)))
        ch = draw(st.one_of(_MRZ_CHARS, st.sampled_from("KEXRCL")))
        op = draw(st.sampled_from(("change", "drop", "add")))
        lines[r] = (line[:i] + ch + line[i + 1:] if op == "change" else
                    line[:i] + line[i + 1:] if op == "drop" else line[:i] + ch + line[i:])
    return lines


def check_mrz_text(raw: list[str]) -> None:
    """The text stages of reading a zone (`mrz_reader._read_zone` without the image):
    fitting to the format's width, constraining character classes and fillers keep every
    line at the width; the parse is an MrzData or ValueError; its fields are ReadFields."""
    fmt = _format_for(raw)
    width = FORMATS[fmt][1]
    name_line = 2 if fmt == "TD1" else 0
    lines = [_fit_width(x, width, pad_end=i == name_line) for i, x in enumerate(raw)]
    assert all(len(x) == width for x in lines), lines
    lines = _constrain(lines, fmt)
    lines[name_line] = _filler_tail(lines[name_line])
    assert all(len(x) == width for x in lines), lines
    for row, start, end in _OPTIONAL_FIELDS.get(fmt, ()):
        lines[row] = _filler_field(lines[row], start, end)
    assert all(len(x) == width for x in lines), lines
    check_mrz_lines(lines)


def check_mrz_lines(lines: list[str]) -> None:
    try:
        data = parse_mrz(lines)
    except ValueError:
        return
    assert data.format in ("TD1", "TD2", "TD3", "MRVA", "MRVB")
    assert all(len(c.expected) == 1 for c in data.checks)
    for f in mrz_fields(data, 0.95):
        assert 0.0 <= f.confidence <= 1.0


def check_mrz_field(text: str) -> None:
    """check_digit: one digit for any field; mrz_date: a date or None for any text."""
    digit = check_digit(text)
    assert len(digit) == 1 and "0" <= digit <= "9", digit
    for future in (False, True):
        date = mrz_date(text, future=future)
        assert date is None or isinstance(date, dt.date)


@st.composite
def any_mrz_lines(draw: st.DrawFn) -> list[str]:
    """Lines of a valid shape with any characters, or of any shape."""
    if draw(st.booleans()):
        n, width = draw(st.sampled_from(tuple(FORMATS.values())))
        chars = st.one_of(_MRZ_CHARS, st.characters())
        return [draw(st.text(chars, min_size=width, max_size=width)) for _ in range(n)]
    return draw(st.lists(st.text(max_size=50), max_size=4))


@st.composite
def cell_inputs(draw: st.DrawFn) -> tuple[np.ndarray, list[OcrChar], int]:
    """A line's ink (random blobs of print on a blank line) and characters read from it."""
    width = draw(st.sampled_from((30, 36, 44)))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ink = (rng.random((h, w)) < draw(st.floats(0.0, 1.0))).astype(np.uint8)
    chars = draw(st.lists(st.builds(OcrChar, _MRZ_CHARS, st.integers(-50, 450),
                                    st.integers(-50, 450)), max_size=60))
    return ink, chars, width


def check_cell_line(args: tuple[np.ndarray, list[OcrChar], int]) -> None:
    """No grid (None), or exactly `width` MRZ characters."""
    ink, chars, width = args
    grid = line_grid(ink, chars, width)
    if grid is None:
        return
    for ends_in_digit in (False, True):
        line = cell_line(ink, chars, grid, width, ends_in_digit=ends_in_digit)
        assert len(line) == width and set(line) <= set(MRZ_ALPHABET), line


# -- SBI capture records ------------------------------------------------------------------------

SBI_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@st.composite
def sbi_tokens(draw: st.DrawFn) -> str:
    """Any text; three base64url parts of any JSON (headers that are not objects, other
    algorithms, deep nesting); genuine records with characters changed, parts swapped or
    cut."""
    kind = draw(st.sampled_from(("text", "parts", "json", "genuine")))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "parts":
        return ".".join(draw(st.lists(st.text(_B64URL, max_size=40), min_size=0, max_size=5)))
    if kind == "json":
        header = draw(st.one_of(_JSON, st.just({"alg": "EdDSA"}), st.integers(1, 200_000).map(
            lambda depth: "[" * depth)))
        text = header if isinstance(header, str) else json.dumps(header)
        return f"{_b64url(text.encode())}.{_b64url(draw(st.binary(max_size=40)))}." \
               f"{_b64url(draw(st.binary(max_size=64)))}"
    payload = draw(st.dictionaries(st.text(max_size=10), _JSON, max_size=5))
    if draw(st.booleans()):  # a record's usual fields, of any type
        payload.update(bioValue=draw(st.one_of(st.just("cHJpbnQ="), _JSON)),
                       bioSubType=draw(st.one_of(st.just("Right IndexFinger"), _JSON)))
    token = sign_jws(payload, SBI_KEY)
    parts = token.split(".")
    op = draw(st.sampled_from(("char", "swap", "cut", "none")))
    if op == "char":
        i = draw(st.integers(0, len(token) - 1))
        return token[:i] + draw(st.characters()) + token[i + 1:]
    if op == "swap":
        return ".".join(draw(st.permutations(parts)))
    if op == "cut":
        return token[:draw(st.integers(0, len(token)))]
    return token


def check_sbi_token(token: str) -> None:
    """The station: the payload (a dict) of a record the key signed, or SbiRecordRefused.
    The verifier: a record's payload, image and chain value, or InvalidInput; and the print's
    provenance, never an exception."""
    key = SBI_KEY.public_key()
    try:
        assert isinstance(station_verify_jws(token, key), dict)
    except SbiRecordRefused as exc:
        assert str(exc)
    try:
        payload = sbi_record.verify_jws(token, key)
        image = sbi_record.record_image(payload)
        sbi_record.chain_hash(GENESIS_HASH, image)
    except InvalidInput as exc:
        assert exc.reason.startswith("SBI_") and exc.message
    for previous in (GENESIS_HASH, token[:64]):
        record = SbiCaptureRecord(jws=token, hash=token[-64:], previous_hash=previous,
                                  device_public_key=public_key_text(key))
        provenance = attribute(record, b"print", 2, GENESIS_HASH,
                               frozenset({public_key_text(key)}))
        assert isinstance(provenance.attribution, Attribution) and provenance.detail


# -- the targets --------------------------------------------------------------------------------

TARGETS: tuple[Target, ...] = (
    Target("decode_gate", "verifier.imaging.decode_image",
           st.one_of(st.binary(max_size=2048), encoded_images(), mutated_images()),
           check_decode_gate),
    Target("station_message_bytes", "StationMessage.FromString + verifier.server.convert",
           _wire_bytes(station_messages()), check_station_message_bytes),
    Target("application_form", "verifier.server.convert.application_from_pb", applications(),
           check_application),
    Target("station_message_fields", "verifier.server.convert (proto -> domain)",
           station_messages(), check_station_message),
    Target("photo_request_bytes", "PhotoRequest.FromString + convert.enum_name",
           _wire_bytes(photo_requests()), check_photo_request_bytes),
    Target("ktp_text", "labelled_values + verifier.documents.ktp text stages + decode_nik",
           ocr_pages(ktp_rows), check_ktp_lines),
    Target("akta_text", "verifier.documents.akta.read_akta_lines", ocr_pages(akta_rows),
           check_akta_lines),
    Target("field_text", "normalise.parse_dmy/digits_only, words.*, the KTP's field forms",
           st.one_of(st.text(_DIGITISH, max_size=24), st.text(max_size=24),
                     st.lists(st.sampled_from(_NUMBER_WORDS), max_size=8).map(" ".join)),
           check_field_text),
    Target("nik", "verifier.documents.nik.decode_nik",
           st.one_of(st.text(max_size=24), st.text("0123456789", min_size=16, max_size=16),
                     st.text("0123456789²³١٣", min_size=16, max_size=16)), check_nik),
    Target("mrz_text", "verifier.documents.mrz_reader text stages + mrz.parse_mrz + mrz_fields",
           mrz_reads(), check_mrz_text),
    Target("mrz_lines", "verifier.documents.mrz.parse_mrz + passport.mrz_fields",
           any_mrz_lines(), check_mrz_lines),
    Target("mrz_field", "verifier.documents.mrz.check_digit + mrz_date",
           st.one_of(st.text(max_size=50), st.text("0123456789²³¹٣", min_size=6, max_size=6)),
           check_mrz_field),
    Target("mrz_cells", "verifier.documents.mrz_cells.line_grid + cell_line", cell_inputs(),
           check_cell_line),
    Target("sbi_record", "station and verifier verify_jws, sbi_record, provenance.attribute",
           sbi_tokens(),
           check_sbi_token),
)


def fuzz(target: Target, examples: int, *, random_seed: int | None = None) -> int:
    """Run `target`'s check on `examples` generated inputs and return how many it ran
    (shrinking included). Without `random_seed` the inputs are the same on every run (CI);
    nothing is stored between runs. A failing check raises its error for the smallest
    input found, the input in the exception's notes."""
    tried = 0

    def counted(value: Any) -> None:
        nonlocal tried
        tried += 1
        target.check(value)

    test = settings(max_examples=examples, derandomize=random_seed is None, database=None,
                    deadline=None, suppress_health_check=list(HealthCheck),
                    print_blob=False)(given(target.strategy)(counted))
    if random_seed is not None:
        test = seed(random_seed)(test)
    test()
    return tried
