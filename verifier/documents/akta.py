"""Reading a rectified birth certificate (kutipan akta kelahiran).

The body is labelled prose ("Bahwa di : LEBONG", "pada tanggal : tujuh belas Agustus",
"tahun : seribu sembilan ratus sembilan puluh"); dates and the child order written in words
are parsed to numbers. The certificate number and the issue block are found by their
keywords.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from verifier.documents.labels import labelled_values
from verifier.documents.normalise import clean_upper, similarity, squash
from verifier.documents.ocr import OcrLine, flatten_background, read_lines
from verifier.documents.words import MONTHS, ordinal_to_number, words_to_date
from verifier.item_analysis import ReadField

AKTA_FIELDS = ("nomor_akta", "nama", "tempat_lahir", "tanggal_lahir", "anak_ke", "nama_ayah",
               "nama_ibu", "penerbit", "tanggal_terbit")
_LABELS = {"Bahwa di": "tempat_lahir", "pada tanggal": "hari_bulan", "tahun": "tahun",
           "telah lahir": "nama", "anak ke": "anak_ke", "dari ayah": "nama_ayah",
           "dan ibu": "nama_ibu"}
# Regency code, LU (on time) or LT (late registration), registration date, serial.
_NUMBER = re.compile(r"(\d{4})\s*-\s*(L[UT])\s*-\s*(\d{8})\s*-\s*(\d{4})")
_ISSUE_DATE = re.compile(r"tanggal\s+(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class AktaReading:
    fields: tuple[ReadField, ...]
    lines_read: int

    @property
    def anchors_found(self) -> int:
        return len(self.fields)


def _field(name: str, value: str, raw: str, confidence: float) -> ReadField:
    return ReadField(name=name, value=value, raw_text=raw,
                     confidence=round(max(0.0, min(1.0, confidence)), 3))


def _line_conf(line: OcrLine) -> float:
    return min(w.confidence for w in line.words)


def _issuer(lines: list[OcrLine]) -> tuple[ReadField | None, ReadField | None]:
    """(penerbit, tanggal_terbit) from "Dikeluarkan di ... tanggal 8 September 1984 /
    KEPALA DINAS KEPENDUDUKAN / DAN PENCATATAN SIPIL / KABUPATEN X"."""
    issued = None
    for line in lines:
        match = _ISSUE_DATE.search(line.text)
        if match is None:
            continue
        month = max(MONTHS, key=lambda m: similarity(match.group(2).lower(), m))
        if similarity(match.group(2).lower(), month) < 0.75:
            continue
        try:
            date = dt.date(int(match.group(3)), MONTHS.index(month) + 1, int(match.group(1)))
        except ValueError:
            continue
        issued = _field("tanggal_terbit", date.isoformat(), line.text, _line_conf(line))
    issuer = None
    for i, line in enumerate(lines):
        if similarity(squash(line.text), "KEPALADINASKEPENDUDUKAN") < 0.8:
            continue
        block = lines[i + 1:i + 3]
        if len(block) < 2 or similarity(squash(block[0].text), "DANPENCATATANSIPIL") < 0.8:
            break
        office = clean_upper(block[1].text)
        issuer = _field("penerbit",
                        f"DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL {office}",
                        " / ".join(x.text for x in (line, *block)),
                        min(_line_conf(x) for x in (line, *block)))
        break
    return issuer, issued


def read_akta_lines(lines: list[OcrLine]) -> AktaReading:
    values = labelled_values(lines, _LABELS)
    fields: dict[str, ReadField] = {}
    for line in lines:
        match = _NUMBER.search(line.text.replace(" ", ""))
        if match:
            fields["nomor_akta"] = _field("nomor_akta", "-".join(match.groups()), line.text,
                                          _line_conf(line))
            break
    for name in ("nama", "nama_ayah", "nama_ibu", "tempat_lahir"):
        if (v := values.get(name)) is not None and v.words:
            value = re.sub(r"[^A-Z .,'-]", "", clean_upper(v.text))
            fields[name] = _field(name, " ".join(value.split()), v.text, v.confidence)
    day_month, year = values.get("hari_bulan"), values.get("tahun")
    if day_month is not None and year is not None:
        raw = f"{day_month.text} {year.text}"
        date = words_to_date(raw)
        conf = min(day_month.confidence, year.confidence)
        fields["tanggal_lahir"] = _field("tanggal_lahir", date.isoformat() if date else raw,
                                         raw, conf if date else 0.0)
    if (v := values.get("anak_ke")) is not None and v.words:
        order_words = v.text.split(",")[0]  # "satu, laki-laki"
        order = ordinal_to_number(order_words)
        fields["anak_ke"] = _field("anak_ke", str(order) if order else clean_upper(order_words),
                                   v.text, v.confidence if order else 0.0)
    issuer, issued = _issuer(lines)
    for f in (issuer, issued):
        if f is not None:
            fields[f.name] = f
    ordered = tuple(fields[n] for n in AKTA_FIELDS if n in fields)
    return AktaReading(fields=ordered, lines_read=len(lines))


def read_akta(page_rgb: np.ndarray) -> AktaReading:
    """Read a page already rectified to `AKTA_SIZE_PX`."""
    return read_akta_lines([line for line in read_lines(flatten_background(page_rgb), psm=6)
                            if line.words])
