"""Reading a rectified e-KTP card, field by field.

Labels are found by fuzzy matching ("Tempat/Tgi Lahir" is still the birth place and date);
the value is what follows the label's colon on the same line. Fields with a known alphabet
are read again alone: the NIK with digits only, dates and RT/RW with digits and separators,
by Tesseract and by PP-OCR's recogniser, and the reads voted on (`vote`). Enumerations
snap to their allowed values; places snap to the Bengkulu gazetteer when the match is
unambiguous.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from verifier.documents import vocabulary as vocab
from verifier.documents.labels import LabelledValue, labelled_values
from verifier.documents.layout import KTP_PORTRAIT_BOX, box_px
from verifier.documents.nik import NIK_LENGTH, NikInfo, decode_nik
from verifier.documents.vote import FieldRead, Vote, recognised_nik, vote
from verifier.documents.normalise import (Snapped, clean_upper, digits_only, parse_dmy,
                                          roman_numerals_restored, similarity, snap,
                                          snap_leading, squash)
from verifier.documents.ocr import (OcrLine, OcrWord, flatten_background, read_lines,
                                    read_single_line)
from verifier.documents.regions import (PROVINCES, REGENCIES, bengkulu_gazetteer,
                                        regency_card_name)
from verifier.documents.textrec import TextRecogniser, recognise_line
from verifier.item_analysis import ReadField

KTP_FIELDS = ("provinsi", "kabupaten_kota", "nik", "nama", "tempat_lahir", "tanggal_lahir",
              "jenis_kelamin", "golongan_darah", "alamat", "rt_rw", "kelurahan_desa",
              "kecamatan", "agama", "status_perkawinan", "pekerjaan", "kewarganegaraan",
              "berlaku_hingga")

# Label as printed -> the field (or field pair) its value fills.
_LABELS = {"NIK": "nik", "Nama": "nama", "Tempat/Tgl Lahir": "tempat_tanggal_lahir",
           "Jenis Kelamin": "jenis_kelamin", "Alamat": "alamat", "RT/RW": "rt_rw",
           "Kel/Desa": "kelurahan_desa", "Kecamatan": "kecamatan", "Agama": "agama",
           "Status Perkawinan": "status_perkawinan", "Pekerjaan": "pekerjaan",
           "Kewarganegaraan": "kewarganegaraan", "Berlaku Hingga": "berlaku_hingga"}
# Tesseract reads the card's 21 px print best at about twice that height.
_OCR_SCALE = 2.0
# The photo column (portrait, issuing place and date, signature) carries no labelled text.
_PHOTO_COLUMN = (KTP_PORTRAIT_BOX[0] - 0.01, 0.2, 1.0, 1.0)
# The share of a line's darkest row below which a row is the gap between lines.
_GAP_SHARE = 0.08
# Share of the width blanked at the card's edges (see `ocr_image`).
_EDGE_MARGIN = 0.015
# Lines searched for the header: a photo's table texture may read as a few lines above it.
_HEADER_SEARCH_LINES = 6
_PROVINCE_NAMES = tuple(PROVINCES.values())
_REGENCY_CARD_NAMES = tuple(n for n in (regency_card_name(c) for c in REGENCIES) if n)


@dataclass(frozen=True)
class KtpReading:
    fields: tuple[ReadField, ...]
    nik: NikInfo | None
    nik_agreement: dict[str, bool]  # "birth_date" / "sex" / "province" / "regency" -> agree
    lines_read: int

    def value(self, name: str) -> str | None:
        return next((f.value for f in self.fields if f.name == name), None)


def _reread_text(grey: np.ndarray, value: LabelledValue, whitelist: str) -> str:
    """The value's words read again alone by Tesseract, restricted to `whitelist`."""
    box = value.box_px()
    if box is None:
        return ""
    left, top, right, bottom = box
    pad = max(4, (bottom - top) // 3)
    crop = grey[max(0, top - pad):bottom + pad, max(0, left - 6):right + 6]
    if crop.size == 0:
        return ""
    return read_single_line(crop, whitelist)


def _value_crop(grey: np.ndarray, value: LabelledValue) -> np.ndarray | None:
    """The value's words with a margin, for the recogniser."""
    box = value.box_px()
    if box is None:
        return None
    left, top, right, bottom = box
    height = bottom - top
    crop = grey[max(0, top - height // 3):bottom + height // 3,
                max(0, left - height // 2):right + height // 2]
    return crop if crop.size else None


def _ink_rows(crop: np.ndarray) -> np.ndarray:
    """`crop` cut to the rows of the line through its middle: a tilted or warped card puts
    parts of the lines above and below in the margin, and the recogniser reads them too."""
    ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    dark = ink.mean(axis=1)
    middle = len(dark) // 2
    window = dark[middle // 2:middle + middle // 2 + 1]
    if window.size == 0 or window.max() == 0:
        return crop
    # The line: the rows with ink, grown from its darkest row near the middle.
    peak = middle // 2 + int(window.argmax())
    top = bottom = peak
    while top > 0 and dark[top - 1] > _GAP_SHARE * dark[peak]:
        top -= 1
    while bottom < len(dark) - 1 and dark[bottom + 1] > _GAP_SHARE * dark[peak]:
        bottom += 1
    pad = max(2, (bottom - top + 1) // 6)
    return crop[max(0, top - pad):bottom + pad + 1]


def _line_after_label(grey: np.ndarray, value: LabelledValue) -> np.ndarray | None:
    """The line right of its label, with a margin (a last character OCR missed still fits)
    that stops at the photo column."""
    if value.after_label_px is None:
        return None
    left, top, right, bottom = value.after_label_px
    pad = (bottom - top) // 3
    column = round(_PHOTO_COLUMN[0] * grey.shape[1])
    crop = grey[max(0, top - pad):bottom + pad, left:min(column, right + (bottom - top))]
    return _ink_rows(crop) if crop.size else None


# A read text -> (the field's value, whether it has the field's whole form).
Form = Callable[[str], tuple[str, bool]]


def _nik_form(text: str) -> tuple[str, bool]:
    digits = digits_only(text)
    return digits, len(digits) == NIK_LENGTH


def _date_form(text: str) -> tuple[str, bool]:
    date = parse_dmy(text)
    return (date.isoformat(), True) if date is not None else ("", False)


def _rt_rw_form(text: str) -> tuple[str, bool]:
    digits = digits_only(text)
    return (f"{digits[:3]}/{digits[3:]}", True) if len(digits) == 6 else ("", False)


def _voted(grey: np.ndarray, value: LabelledValue, whitelist: str, form: Form,
           recogniser: TextRecogniser | None) -> Vote | None:
    """The value read three times (PP-OCR's recogniser, Tesseract alone restricted to
    `whitelist`, Tesseract with the page) and voted on (see `vote`). The recogniser read
    every date and all but one RT/RW and NIK right on the development cards, Tesseract
    93-99 %, so it comes first and wins ties."""
    reads = [FieldRead(source, "tesseract", *form(text), confidence=value.confidence)
             for source, text in (("reread", _reread_text(grey, value, whitelist)),
                                  ("page", value.text))]
    if recogniser is not None:
        if form is _nik_form:
            # Read the whole line: Tesseract may have merged the first digits into the
            # colon or dropped them, and then the value's words miss them.
            line = _line_after_label(grey, value)
            if line is not None:
                reads.insert(0, recognised_nik(recognise_line(recogniser, line)))
        elif (crop := _value_crop(grey, value)) is not None:
            recognised = recognise_line(recogniser, crop)
            reads.insert(0, FieldRead("recogniser", "pp-ocr", *form(recognised.text),
                                      confidence=recognised.confidence))
    return vote(reads, (lambda v: decode_nik(v).valid) if form is _nik_form else lambda _: True)


def _field(name: str, value: str, raw: str, confidence: float, corrected_by: str = ""
           ) -> ReadField:
    return ReadField(name=name, value=value, raw_text=raw,
                     confidence=round(max(0.0, min(1.0, confidence)), 3),
                     corrected_by=corrected_by)


def _snap_source(read: str, snapped: Snapped | None, source: str) -> str:
    """`source` when a closed list changed the reading, "" when it only confirmed it."""
    return source if snapped is not None and squash(snapped.value) != squash(read) else ""


def _snapped_field(name: str, raw: LabelledValue | None, allowed: tuple[str, ...],
                   source: str, min_score: float = 0.6) -> ReadField | None:
    if raw is None or not raw.words:
        return None
    text = clean_upper(raw.text)
    snapped = snap_leading(text, allowed, min_score=min_score)
    if snapped is None:
        return _field(name, text, raw.text, raw.confidence * 0.5)
    return _field(name, snapped.value, raw.text, raw.confidence * snapped.score,
                  _snap_source(text, snapped, source))


def _place_field(name: str, raw: LabelledValue | None, places: tuple[str, ...]) -> ReadField | None:
    """A place name, corrected to the gazetteer only when one name is clearly closest."""
    if raw is None or not raw.words:
        return None
    text = clean_upper(roman_numerals_restored(raw.text))
    snapped = snap(text, places, min_score=0.8, margin=0.08) if places else None
    if snapped is None:
        return _field(name, text, raw.text, raw.confidence * (0.6 if places else 1.0))
    return _field(name, snapped.value, raw.text, raw.confidence * snapped.score,
                  _snap_source(text, snapped, "gazetteer"))


def _split_jenis_kelamin(value: LabelledValue) -> tuple[LabelledValue, LabelledValue | None]:
    """"PEREMPUAN Gol. Darah : B" -> sex words, blood-type words (colon included)."""
    words = list(value.words)
    for i, w in enumerate(words):
        if similarity(squash(w.text), "GOL") >= 0.6 or similarity(squash(w.text), "DARAH") >= 0.7:
            rest = words[i + 1:]
            if rest and similarity(squash(rest[0].text), "DARAH") >= 0.6:
                rest = rest[1:]
            return LabelledValue(tuple(words[:i])), LabelledValue(tuple(rest))
    return value, None


def _blood_type(raw: LabelledValue | None) -> ReadField | None:
    """The value after "Gol. Darah"; a lone dash (unknown) is easily taken for the colon."""
    if raw is None:
        return None
    text = "".join(raw.text.upper().split()).lstrip(":;").replace("0", "O").replace("8", "B")
    conf = raw.confidence if raw.words else 0.5
    if text in vocab.BLOOD_TYPES:
        return _field("golongan_darah", text, raw.text, conf)
    if not text or set(text) <= set(":;-—_~."):
        return _field("golongan_darah", "-", raw.text, conf * 0.8)
    snapped = snap(text.strip(":;-—_~."), vocab.BLOOD_TYPES, min_score=0.5)
    value = snapped.value if snapped else text
    return _field("golongan_darah", value, raw.text, conf * 0.5,
                  _snap_source(text, snapped, "vocabulary:blood groups"))


def _checked_field(name: str, grey: np.ndarray, value: LabelledValue, whitelist: str,
                   form: Form, recogniser: TextRecogniser | None) -> ReadField | None:
    """A date or number field, voted on; what no read could make sense of is kept as read,
    with no confidence."""
    voted = _voted(grey, value, whitelist, form, recogniser)
    if voted is not None and voted.value:
        return _field(name, voted.value, value.text, voted.confidence)
    if not value.text:
        return None
    return _field(name, clean_upper(value.text), value.text, 0.0)


def _header_words(words: tuple[OcrWord, ...]) -> tuple[OcrWord, ...]:
    """A header line's words without the specks at either end that a photo's table, the
    card's edge or its guilloche leave (no header word is shorter than two letters)."""
    def real(word: OcrWord) -> bool:
        return sum(ch.isalpha() for ch in word.text) >= 2

    keep = [i for i, w in enumerate(words) if real(w)]
    return words[keep[0]:keep[-1] + 1] if keep else ()


def _header(lines: list[OcrLine]) -> tuple[ReadField | None, ReadField | None]:
    """PROVINSI <name> on one of the first lines (photos bring lines of table texture
    above it), KABUPATEN <name> or KOTA <name> on the next."""
    for i, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        start = next((k for k, w in enumerate(line.words)
                      if similarity(squash(w.text), "PROVINSI") >= 0.7), None)
        if start is None:
            continue
        words = _header_words(line.words[start + 1:])
        if not words:
            continue
        conf = min(w.confidence for w in words)
        name = clean_upper(" ".join(w.text for w in words))
        province = snap(name, _PROVINCE_NAMES, min_score=0.75, margin=0.05)
        provinsi = _field("provinsi", province.value if province else name, line.text,
                          conf * (province.score if province else 0.6),
                          _snap_source(name, province, "vocabulary:provinces"))
        kab = None
        if i + 1 < len(lines) and (words := _header_words(lines[i + 1].words)):
            text = clean_upper(" ".join(w.text for w in words))
            snapped = snap(text, _REGENCY_CARD_NAMES, min_score=0.8, margin=0.05)
            kab = _field("kabupaten_kota", snapped.value if snapped else text,
                         lines[i + 1].text, min(w.confidence for w in words)
                         * (snapped.score if snapped else 0.6),
                         _snap_source(text, snapped, "vocabulary:regencies"))
        return provinsi, kab
    return None, None


def _regency_places(kabupaten: str | None) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(kecamatan names, kecamatan -> kelurahan) of the card's regency, when in the gazetteer."""
    gazetteer = bengkulu_gazetteer()
    key = (kabupaten or "").removeprefix("KABUPATEN ").strip()
    regency = gazetteer.get(key)
    if regency is None:
        return (), {}
    return tuple(regency), regency


def _nik_agreement(info: NikInfo, fields: dict[str, ReadField]) -> dict[str, bool]:
    agreement: dict[str, bool] = {}
    if info.birth_date and "tanggal_lahir" in fields:
        agreement["birth_date"] = fields["tanggal_lahir"].value == info.birth_date.isoformat()
    if info.sex and "jenis_kelamin" in fields:
        agreement["sex"] = fields["jenis_kelamin"].value == (
            "LAKI-LAKI" if info.sex == "MALE" else "PEREMPUAN")
    if info.province_name and "provinsi" in fields:
        agreement["province"] = fields["provinsi"].value == info.province_name
    if info.regency_name and "kabupaten_kota" in fields:
        agreement["regency"] = fields["kabupaten_kota"].value == regency_card_name(
            info.regency_code)
    return agreement


def ocr_image(card_rgb: np.ndarray) -> np.ndarray:
    """The grey image Tesseract reads: background flattened, photo column blanked, enlarged."""
    grey = flatten_background(card_rgb)
    h, w = grey.shape
    x0, y0, x1, y1 = box_px(_PHOTO_COLUMN, (w, h))
    grey[y0:y1, x0:x1] = 255
    # The card's edge survives rectification as a thin line that OCR reads as "|".
    m = round(_EDGE_MARGIN * w)
    grey[:m], grey[-m:], grey[:, :m], grey[:, -m:] = 255, 255, 255, 255
    return cv2.resize(grey, None, fx=_OCR_SCALE, fy=_OCR_SCALE, interpolation=cv2.INTER_CUBIC)


def read_ktp(card_rgb: np.ndarray, recogniser: TextRecogniser | None = None) -> KtpReading:
    """Read a card already rectified to `layout.KTP_SIZE_PX`. With PP-OCR's `recogniser`,
    the NIK, dates and RT/RW are read a third time and voted on (see `vote`)."""
    grey = ocr_image(card_rgb)
    lines = [line for line in read_lines(grey, psm=6) if line.words]
    values = labelled_values(lines, _LABELS)
    fields: dict[str, ReadField] = {}

    provinsi, kab = _header(lines)
    for f in (provinsi, kab):
        if f is not None:
            fields[f.name] = f

    nik_raw = values.get("nik")
    if nik_raw is not None:
        voted = _voted(grey, nik_raw, "0123456789", _nik_form, recogniser)
        if voted is not None:
            fields["nik"] = _field("nik", voted.value, nik_raw.text, voted.confidence)

    if (v := values.get("nama")) is not None and v.words:
        name = re.sub(r"[^A-Z .,'-]", "", clean_upper(v.text))
        # A wide word space comes back as a hyphen; Indonesian names are not hyphenated.
        name = re.sub(r"(?<=[A-Z])-(?=[A-Z])", " ", name)
        fields["nama"] = _field("nama", " ".join(name.split()), v.text, v.confidence)

    if (v := values.get("tempat_tanggal_lahir")) is not None and v.words:
        # "LEBONG, 17-08-1990": the place is everything before the date.
        words = list(v.words)
        split = next((i for i, w in enumerate(words) if sum(ch.isdigit() for ch in w.text) >= 2),
                     len(words))
        place_words, date_words = words[:split], words[split:]
        if place_words:
            place_words[-1] = OcrWord(place_words[-1].text.rstrip(",.;"),
                                      place_words[-1].confidence, place_words[-1].box_px)
            fields["tempat_lahir"] = _place_field("tempat_lahir", LabelledValue(tuple(place_words)),
                                                  _birth_places())  # type: ignore[assignment]
        if (f := _checked_field("tanggal_lahir", grey, LabelledValue(tuple(date_words)),
                                "0123456789-", _date_form, recogniser)) is not None:
            fields["tanggal_lahir"] = f

    if (v := values.get("jenis_kelamin")) is not None:
        sex, blood = _split_jenis_kelamin(v)
        if (f := _snapped_field("jenis_kelamin", sex, vocab.SEXES,
                                "vocabulary:sexes")) is not None:
            fields["jenis_kelamin"] = f
        if (f := _blood_type(blood)) is not None:
            fields["golongan_darah"] = f

    if (v := values.get("alamat")) is not None and v.words:
        address = clean_upper(v.text)
        # The colon glued to the value comes back as "1", "L." or the like before "JL".
        address = re.sub(r"^[\W\dIL]{1,3}\s*(?=JL\b)", "", address)
        # The card abbreviates "Jalan" and "Nomor" with a full stop that OCR often drops.
        address = re.sub(r"\bJL\b\.?\s*", "JL. ", address)
        address = re.sub(r"\bNO\b\.?\s*", "NO. ", address)
        address = re.sub(r"(?<=[A-Z])\.?NO\.\s*(?=\d)", " NO. ", address)
        address = re.sub(r"\bNO\.\s*[,.;:]\s*(?=\d)", "NO. ", address)
        # A speck read as a full stop after the street name: street names end in letters.
        address = re.sub(r"(?<=[A-Z])\.\s+(?=NO\. )", " ", address).strip()
        fields["alamat"] = _field("alamat", address, v.text, v.confidence)

    if (v := values.get("rt_rw")) is not None and (
            f := _checked_field("rt_rw", grey, v, "0123456789/", _rt_rw_form,
                                recogniser)) is not None:
        fields["rt_rw"] = f

    kecamatans, kelurahans = _regency_places(fields["kabupaten_kota"].value
                                             if "kabupaten_kota" in fields else None)
    if (f := _place_field("kecamatan", values.get("kecamatan"), kecamatans)) is not None:
        fields["kecamatan"] = f
    villages = kelurahans.get(fields["kecamatan"].value, ()) if "kecamatan" in fields else ()
    if not villages:
        villages = tuple(sorted({k for ks in kelurahans.values() for k in ks}))
    if (f := _place_field("kelurahan_desa", values.get("kelurahan_desa"), villages)) is not None:
        fields["kelurahan_desa"] = f

    for name, allowed, source in (
            ("agama", vocab.RELIGIONS, "vocabulary:religions"),
            ("status_perkawinan", vocab.MARITAL_STATUSES, "vocabulary:marital statuses"),
            ("kewarganegaraan", vocab.NATIONALITIES, "vocabulary:nationalities")):
        if (f := _snapped_field(name, values.get(name), allowed, source)) is not None:
            fields[name] = f
    # The Dukcapil occupation list is closed (the codes SIAK records), so it may correct.
    if (f := _snapped_field("pekerjaan", values.get("pekerjaan"), vocab.OCCUPATIONS,
                            "vocabulary:occupations", min_score=0.8)) is not None:
        fields["pekerjaan"] = f

    if (v := values.get("berlaku_hingga")) is not None and v.words:
        if similarity(squash(v.text), squash(vocab.LIFELONG)) >= 0.7:
            fields["berlaku_hingga"] = _field("berlaku_hingga", vocab.LIFELONG, v.text,
                                              v.confidence)
        else:
            if (f := _checked_field("berlaku_hingga", grey, v, "0123456789-", _date_form,
                                    recogniser)) is not None:
                fields["berlaku_hingga"] = f

    info = decode_nik(fields["nik"].value) if "nik" in fields else None
    # The NIK's agreement with the card is recorded for the checks to flag, and used for
    # nothing else: neither to choose the NIK nor to raise its confidence.
    agreement = _nik_agreement(info, fields) if info is not None else {}
    ordered = tuple(fields[name] for name in KTP_FIELDS if name in fields)
    return KtpReading(fields=ordered, nik=info, nik_agreement=agreement, lines_read=len(lines))


@functools.cache
def _birth_places() -> tuple[str, ...]:
    """Regencies, cities and kecamatan of Bengkulu, as birth places are written."""
    gazetteer = bengkulu_gazetteer()
    names = set(REGENCIES.values()) | {"BENGKULU"}
    for regency in gazetteer.values():
        names.update(regency)
    return tuple(sorted(n.removeprefix("KOTA ") for n in names))
