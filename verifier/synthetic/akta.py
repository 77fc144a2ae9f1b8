"""Synthetic birth certificates (kutipan akta kelahiran, A4) with exact ground truth.

After the post-2019 format: number, child's name, place and date of birth with the date
written out in words, child order, father's and mother's names, issuing office and date.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from PIL import Image, ImageDraw

from verifier.documents.layout import AKTA_SIZE_PX
from verifier.documents.regions import regency_card_name
from verifier.documents.words import number_to_words
from verifier.synthetic.identity import (FAMILY, MALE_GIVEN, MONTHS_ID, Identity,
                                         random_identity)
from verifier.synthetic.render import guilloche, signature, text

_SUPERSAMPLING = 2


def _issuer(regency_code: str, regency: str) -> str:
    return f"DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL {regency_card_name(regency_code) or regency}"


def generate_akta(seed: int, person: Identity | None = None
                  ) -> tuple[np.ndarray, dict[str, str]]:
    """A flat A4 page (RGB, canonical size) and its ground-truth fields; deterministic.
    `person` (e.g. from `identity_with_nik`) replaces the random child."""
    rng = random.Random(seed)
    person = person or random_identity(rng)
    issued = person.birth_date + dt.timedelta(days=rng.randint(7, 365 * 20))
    issued = min(issued, dt.date(2026, 11, 1))
    number = (f"{person.regency_code}-{rng.choice(('LU', 'LT'))}-"
              f"{issued.strftime('%d%m%Y')}-{rng.randint(1, 9999):04d}")
    fields = {
        "nomor_akta": number, "nama": person.name, "tempat_lahir": person.birth_place,
        "tanggal_lahir": person.birth_date.isoformat(), "anak_ke": str(person.child_order),
        "nama_ayah": person.father_name, "nama_ibu": person.mother_name,
        "penerbit": _issuer(person.regency_code, person.regency),
        "tanggal_terbit": issued.isoformat(),
    }
    ss = _SUPERSAMPLING
    w, h = AKTA_SIZE_PX
    page = guilloche((w // 2, h // 2), (250, 250, 244), (226, 232, 214), seed).resize(
        (w * ss, h * ss), Image.BILINEAR)
    draw = ImageDraw.Draw(page)
    draw.rectangle((40 * ss, 40 * ss, (w - 40) * ss, (h - 40) * ss), outline=(120, 140, 110),
                   width=6 * ss)

    def put(x: float, y: float, value: str, size: int, anchor: str = "la",
            bold: bool = True) -> None:
        text(draw, (x * ss, y * ss), value.replace(" ", "  "), size * ss, anchor=anchor,
             bold=bold)

    for i, line in enumerate(("REPUBLIK INDONESIA", "PENCATATAN SIPIL",
                              "WARGA NEGARA INDONESIA")):
        put(w / 2, 150 + i * 48, line, 34, anchor="mm")
    put(w / 2, 360, "KUTIPAN AKTA KELAHIRAN", 44, anchor="mm")
    put(w / 2, 430, f"Nomor : {number}", 30, anchor="mm")
    sex = "laki-laki" if person.sex == "MALE" else "perempuan"
    day_month = f"{number_to_words(person.birth_date.day)} " \
                f"{MONTHS_ID[person.birth_date.month - 1]}"
    body = (("Bahwa di", person.birth_place),
            ("pada tanggal", day_month),
            ("tahun", number_to_words(person.birth_date.year)),
            ("telah lahir", person.name),
            ("anak ke", f"{number_to_words(person.child_order)}, {sex}"),
            ("dari ayah", person.father_name),
            ("dan ibu", person.mother_name))
    for i, (label, value) in enumerate(body):
        y = 560 + i * 78
        put(130, y, label, 28, bold=False)
        put(390, y, ":", 28)
        put(420, y, value, 28)
    y = 560 + len(body) * 78 + 80
    put(640, y, f"Dikeluarkan di {person.regency.title()}", 26, bold=False)
    put(640, y + 44, f"tanggal {issued.day} {MONTHS_ID[issued.month - 1]} {issued.year}", 26,
        bold=False)
    put(640, y + 110, "KEPALA DINAS KEPENDUDUKAN", 24)
    put(640, y + 146, "DAN PENCATATAN SIPIL", 24)
    put(640, y + 182, regency_card_name(person.regency_code) or person.regency, 24)
    signature(draw, (700 * ss, (y + 220) * ss, 980 * ss, (y + 300) * ss), seed)
    put(640, y + 330, f"{rng.choice(MALE_GIVEN)} {rng.choice(FAMILY)}, S.Sos", 24)
    return np.asarray(page.resize(AKTA_SIZE_PX, Image.LANCZOS)), fields
