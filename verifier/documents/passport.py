"""Reading an old passport (or any ICAO document) from its machine-readable zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verifier.documents.layout import PASSPORT_MRZ_BAND, box_px
from verifier.documents.mrz import MrzData, mrz_date
from verifier.documents.mrz_reader import MrzReading, find_and_read_mrz, read_mrz_band
from verifier.item_analysis import ReadField

PASSPORT_FIELDS = ("document_type", "issuing_state", "document_number", "surname",
                   "given_names", "nationality", "tanggal_lahir", "jenis_kelamin",
                   "expiry_date", "personal_number", "mrz_check_digits_ok")
_SEX = {"M": "LAKI-LAKI", "F": "PEREMPUAN"}


@dataclass(frozen=True)
class PassportReading:
    fields: tuple[ReadField, ...]
    mrz: MrzReading | None


def mrz_fields(data: MrzData, confidence: float) -> tuple[ReadField, ...]:
    """The contract's field names from a parsed MRZ. A field whose check digit fails keeps
    its value but gets confidence 0, so rules see the read and its doubt."""
    failed = {c.name for c in data.checks if not c.ok}
    # Check digits only ever choose characters of the number and the optional data.
    corrected = {"personal_number" if c.field == "optional_data" else c.field
                 for c in data.corrections}
    birth = mrz_date(data.birth_date, future=False)
    expiry = mrz_date(data.expiry_date, future=True)

    def field(name: str, value: str, raw: str, check: str | None = None) -> ReadField:
        conf = 0.0 if check in failed else confidence
        return ReadField(name=name, value=value, raw_text=raw, confidence=round(conf, 3),
                         corrected_by="check digits" if name in corrected else "")

    return (
        field("document_type", data.document_type, data.document_type),
        field("issuing_state", data.issuing_state, data.issuing_state),
        field("document_number", data.document_number, data.document_number, "document_number"),
        field("surname", data.surname, data.surname),
        field("given_names", data.given_names, data.given_names),
        field("nationality", data.nationality, data.nationality),
        field("tanggal_lahir", birth.isoformat() if birth else data.birth_date,
              data.birth_date, "birth_date"),
        field("jenis_kelamin", _SEX.get(data.sex, "-"), data.sex),
        field("expiry_date", expiry.isoformat() if expiry else data.expiry_date,
              data.expiry_date, "expiry_date"),
        field("personal_number", data.personal_number, data.personal_number, "personal_number"),
        field("mrz_check_digits_ok", "true" if data.check_digits_ok else "false",
              " / ".join(data.lines)),
    )


def read_passport(page_rgb: np.ndarray | None, photo_rgb: np.ndarray, detector: Any
                  ) -> PassportReading:
    """The MRZ of a rectified data page (its bottom band), else searched in the whole photo
    with the text detector (when one is given)."""
    reading: MrzReading | None = None
    if page_rgb is not None:
        h, w = page_rgb.shape[:2]
        x0, y0, x1, y1 = box_px(PASSPORT_MRZ_BAND, (w, h))
        reading = read_mrz_band(np.ascontiguousarray(page_rgb[y0:y1, x0:x1]))
    if detector is not None and (reading is None or reading.data is None
                                 or not reading.data.check_digits_ok):
        fallback = find_and_read_mrz(photo_rgb, detector)
        if fallback is not None and (reading is None or reading.data is None
                                     or (fallback.data is not None
                                         and fallback.data.check_digits_ok)):
            reading = fallback
    if reading is None or reading.data is None:
        return PassportReading(fields=(), mrz=reading)
    return PassportReading(fields=mrz_fields(reading.data, reading.confidence), mrz=reading)
