"""One document photo or scan -> its fields: find and rectify the document, turn it upright,
read it with the reader for its kind.

    read_document(rgb, kind, detector, recogniser=None) -> DocumentReading

Kinds are "ktp", "akta" and "passport"; the proto's names (KTP, AKTA_KELAHIRAN,
OLD_PASSPORT) are accepted too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verifier.documents.akta import read_akta
from verifier.documents.ktp import read_ktp
from verifier.documents.layout import PORTRAIT_BOXES, SIZES_PX, box_px
from verifier.documents.mrz import CheckDigit
from verifier.documents.nik import NikInfo
from verifier.documents.passport import read_passport
from verifier.documents.orientation import photo_side_up
from verifier.documents.rectify import Rectified, rectify, rotated_180
from verifier.documents.textrec import TextRecogniser
from verifier.item_analysis import ReadField

KIND_ALIASES = {"KTP": "ktp", "AKTA_KELAHIRAN": "akta", "OLD_PASSPORT": "passport",
                "ktp": "ktp", "akta": "akta", "passport": "passport"}
# An upright akta yields at least this many fields; fewer means try it the other way up.
_AKTA_MIN_FIELDS = 4


def reader_kind(kind: str) -> str | None:
    """"ktp" / "akta" / "passport" for a kind this module reads, else None."""
    return KIND_ALIASES.get(kind)


@dataclass(frozen=True)
class DocumentReading:
    kind: str
    fields: tuple[ReadField, ...]
    rectified: Rectified
    portrait_box_px: tuple[int, int, int, int] | None  # on the rectified document
    nik: NikInfo | None = None
    nik_agreement: dict[str, bool] = field(default_factory=dict)
    mrz_checks: tuple[CheckDigit, ...] = ()
    mrz_format: str | None = None
    elapsed_ms: float = 0.0

    def value(self, name: str) -> str | None:
        return next((f.value for f in self.fields if f.name == name), None)


def rectify_upright(rgb: np.ndarray, kind: str, detector: Any = None) -> Rectified:
    """The document warped to its canonical size; cards and passports turned so that the
    photo is where it belongs, judged by the text around it when `detector` (PP-OCR's text
    detector) is given (an akta is settled by its reader)."""
    rectified = rectify(rgb, kind, detector)
    if kind in PORTRAIT_BOXES:
        rectified = photo_side_up(rectified, PORTRAIT_BOXES[kind])
    return rectified


def read_document(rgb: np.ndarray, kind: str, detector: Any,
                  recogniser: TextRecogniser | None = None) -> DocumentReading:
    """Read the document of `kind` in `rgb`. `detector` is the PP-OCR text detector session
    (used to find an MRZ that is not where a rectified data page has it); `recogniser`, PP-OCR's
    text recogniser, reads a KTP's NIK a second time (without it Tesseract alone does)."""
    name = reader_kind(kind)
    if name is None:
        raise ValueError(f"no reader for document kind {kind!r}; "
                         f"known: {', '.join(sorted(set(KIND_ALIASES.values())))}")
    started = time.perf_counter()
    rectified = rectify_upright(rgb, name, detector)
    portrait = box_px(PORTRAIT_BOXES[name], SIZES_PX[name]) if name in PORTRAIT_BOXES else None
    if name == "ktp":
        ktp = read_ktp(rectified.image, recogniser)
        return DocumentReading(name, ktp.fields, rectified, portrait, nik=ktp.nik,
                               nik_agreement=ktp.nik_agreement,
                               elapsed_ms=(time.perf_counter() - started) * 1000)
    if name == "akta":
        akta = read_akta(rectified.image)
        if akta.anchors_found < _AKTA_MIN_FIELDS:
            turned = rotated_180(rectified)
            other = read_akta(turned.image)
            if other.anchors_found > akta.anchors_found:
                akta, rectified = other, turned
        return DocumentReading(name, akta.fields, rectified, None,
                               elapsed_ms=(time.perf_counter() - started) * 1000)
    passport = read_passport(rectified.image if rectified.found else None, rgb, detector)
    data = passport.mrz.data if passport.mrz is not None else None
    return DocumentReading(name, passport.fields, rectified, portrait,
                           mrz_checks=data.checks if data else (),
                           mrz_format=data.format if data else None,
                           elapsed_ms=(time.perf_counter() - started) * 1000)


def extract_portrait(rgb: np.ndarray, kind: str) -> np.ndarray | None:
    """The holder's photo from a KTP or passport photo/scan (RGB crop of the rectified
    document), or None for kinds without one. No OCR is run."""
    name = reader_kind(kind)
    if name not in PORTRAIT_BOXES:
        return None
    rectified = rectify_upright(rgb, name)
    x0, y0, x1, y1 = box_px(PORTRAIT_BOXES[name], SIZES_PX[name])
    return np.ascontiguousarray(rectified.image[y0:y1, x0:x1])


def portrait_box(kind: str) -> tuple[int, int, int, int] | None:
    """The photo's box (left, top, right, bottom) on the rectified document of `kind`."""
    name = reader_kind(kind)
    if name not in PORTRAIT_BOXES:
        return None
    return box_px(PORTRAIT_BOXES[name], SIZES_PX[name])
