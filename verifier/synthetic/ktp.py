"""Synthetic e-KTP cards laid out like the real card, with exact ground truth.

Layout after the public specimen: light-blue guilloche, PROVINSI / KABUPATEN header, the NIK
line, labelled fields with colons, the photo on the right with the issuing regency and date
under it, and a signature.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from PIL import Image, ImageDraw

from verifier.documents.layout import KTP_PORTRAIT_BOX, KTP_SIZE_PX, box_px
from verifier.documents.regions import regency_card_name
from verifier.synthetic.identity import Identity, random_identity
from verifier.synthetic.render import guilloche, portrait, signature, text

_LABEL_X, _COLON_X, _VALUE_X = 40, 262, 278
_ROW0_Y, _ROW_STEP = 218, 30.5
_SUPERSAMPLING = 2


def ktp_fields(person: Identity, valid_until: str) -> dict[str, str]:
    """The ground truth: field name (the reader's contract) -> normalised value."""
    return {
        "provinsi": "BENGKULU",
        "kabupaten_kota": regency_card_name(person.regency_code) or person.regency,
        "nik": person.nik, "nama": person.name, "tempat_lahir": person.birth_place,
        "tanggal_lahir": person.birth_date.isoformat(),
        "jenis_kelamin": "LAKI-LAKI" if person.sex == "MALE" else "PEREMPUAN",
        "golongan_darah": person.blood_type, "alamat": person.address, "rt_rw": person.rt_rw,
        "kelurahan_desa": person.kelurahan, "kecamatan": person.kecamatan,
        "agama": person.religion, "status_perkawinan": person.marital_status,
        "pekerjaan": person.occupation, "kewarganegaraan": "WNI", "berlaku_hingga": valid_until,
    }


def render_ktp(person: Identity, valid_until: str, seed: int) -> np.ndarray:
    """The card alone, at the canonical size, RGB."""
    # Drawn at twice the size and reduced, so that strokes are anti-aliased like a print
    # photographed at this resolution rather than pixel-hard.
    ss = _SUPERSAMPLING
    size = (KTP_SIZE_PX[0] * ss, KTP_SIZE_PX[1] * ss)
    card = guilloche(KTP_SIZE_PX, (196, 224, 240), (150, 195, 225), seed).resize(
        size, Image.BILINEAR)
    draw = ImageDraw.Draw(card)
    fields = ktp_fields(person, valid_until)
    w = KTP_SIZE_PX[0]

    def put(x: float, y: float, value: str, size_px: int, anchor: str = "la",
            widen_spaces: bool = True) -> None:
        # Pillow's font has a narrower space than the card's Arial: widen it to match.
        if widen_spaces:
            value = value.replace(" ", "  ")
        text(draw, (x * ss, y * ss), value, size_px * ss, anchor=anchor)

    put(w * 0.42, 62, f"PROVINSI {fields['provinsi']}", 30, anchor="mm")
    put(w * 0.42, 102, fields["kabupaten_kota"], 30, anchor="mm")
    put(_LABEL_X, 158, "NIK", 32)
    put(_COLON_X - 20, 158, ":", 32)
    # Spaced digits, like the card's NIK font.
    put(_VALUE_X, 156, " ".join(person.nik), 32, widen_spaces=False)

    def row(i: int, label: str, value: str, indent: int = 0) -> None:
        y = _ROW0_Y + i * _ROW_STEP
        put(_LABEL_X + indent, y, label, 21)
        put(_COLON_X, y, ":", 21)
        put(_VALUE_X, y, value, 21)

    dob = person.birth_date.strftime("%d-%m-%Y")
    row(0, "Nama", fields["nama"])
    row(1, "Tempat/Tgl Lahir", f"{fields['tempat_lahir']}, {dob}")
    row(2, "Jenis Kelamin", fields["jenis_kelamin"])
    put(480, _ROW0_Y + 2 * _ROW_STEP, f"Gol. Darah : {fields['golongan_darah']}", 21)
    row(3, "Alamat", fields["alamat"])
    row(4, "RT/RW", fields["rt_rw"], indent=40)
    row(5, "Kel/Desa", fields["kelurahan_desa"], indent=40)
    row(6, "Kecamatan", fields["kecamatan"], indent=40)
    row(7, "Agama", fields["agama"])
    row(8, "Status Perkawinan", fields["status_perkawinan"])
    row(9, "Pekerjaan", fields["pekerjaan"])
    row(10, "Kewarganegaraan", fields["kewarganegaraan"])
    until = valid_until if valid_until == "SEUMUR HIDUP" else \
        dt.date.fromisoformat(valid_until).strftime("%d-%m-%Y")
    row(11, "Berlaku Hingga", until)

    x0, y0, x1, y1 = box_px(KTP_PORTRAIT_BOX, KTP_SIZE_PX)
    card.paste(portrait(((x1 - x0) * ss, (y1 - y0) * ss), (190, 40, 40)), (x0 * ss, y0 * ss))
    cx = (x0 + x1) / 2
    put(cx, y1 + 24, person.regency, 19, anchor="mm")
    put(cx, y1 + 50, person.issue_date.strftime("%d-%m-%Y"), 19, anchor="mm")
    signature(draw, (int(cx - 60) * ss, (y1 + 80) * ss, int(cx + 60) * ss, (y1 + 130) * ss), seed)
    return np.asarray(card.resize(KTP_SIZE_PX, Image.LANCZOS))


def generate_ktp(seed: int, person: Identity | None = None
                 ) -> tuple[np.ndarray, dict[str, str]]:
    """A flat card image (RGB, canonical size) and its ground-truth fields; deterministic.
    `person` (e.g. from `identity_with_nik`) replaces the random holder."""
    rng = random.Random(seed)
    person = person or random_identity(rng)
    valid_until = "SEUMUR HIDUP" if rng.random() < 0.8 else \
        (person.issue_date + dt.timedelta(days=5 * 365)).isoformat()
    return render_ktp(person, valid_until, seed), ktp_fields(person, valid_until)
