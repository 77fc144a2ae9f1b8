"""Synthetic Indonesian passport data pages (TD3) with a correct machine-readable zone."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from PIL import ImageDraw

from verifier.documents.layout import (PASSPORT_MRZ_BAND, PASSPORT_PORTRAIT_BOX,
                                       PASSPORT_SIZE_PX, box_px)
from verifier.documents.mrz import td3_lines
from verifier.synthetic.identity import random_identity
from verifier.synthetic.render import font, guilloche, portrait, text


def _mrz_text(draw: ImageDraw.ImageDraw, lines: tuple[str, str]) -> None:
    """Fixed-pitch characters, as OCR-B is: each centred in its own cell."""
    w, h = PASSPORT_SIZE_PX
    _, top, _, bottom = box_px(PASSPORT_MRZ_BAND, PASSPORT_SIZE_PX)
    pitch = (w - 100) / 44
    for row, line in enumerate(lines):
        y = top + (bottom - top) * (0.33 + 0.36 * row)
        for i, ch in enumerate(line):
            x = 50 + pitch * (i + 0.5)
            if ch == "<":  # OCR-B's filler is a cap-height chevron, not a math sign
                draw.line([(x + 8, y - 12), (x - 8, y), (x + 8, y + 12)], fill=(15, 15, 20),
                          width=3)
            else:
                draw.text((x, y), ch, font=font(36), fill=(15, 15, 20), anchor="mm")


def passport_fields(surname: str, given: str, number: str, birth: dt.date, sex: str,
                    expiry: dt.date, personal: str, lines: tuple[str, str]) -> dict[str, str]:
    return {"document_type": "P", "issuing_state": "IDN", "document_number": number,
            "surname": surname, "given_names": given, "nationality": "IDN",
            "tanggal_lahir": birth.isoformat(),
            "jenis_kelamin": "LAKI-LAKI" if sex == "M" else "PEREMPUAN",
            "expiry_date": expiry.isoformat(), "personal_number": personal,
            "mrz_check_digits_ok": "true", "mrz_line_1": lines[0], "mrz_line_2": lines[1]}


def generate_passport(seed: int) -> tuple[np.ndarray, dict[str, str]]:
    """A flat data page (RGB, canonical size) and its ground truth; deterministic."""
    rng = random.Random(seed)
    person = random_identity(rng)
    names = person.name.split()
    surname, given = names[-1], " ".join(names[:-1])
    number = rng.choice("ABCX") + f"{rng.randint(0, 9999999):07d}"
    issue = person.issue_date
    expiry = issue.replace(year=issue.year + 10) if (issue.month, issue.day) != (2, 29) \
        else issue + dt.timedelta(days=3652)
    sex = "M" if person.sex == "MALE" else "F"
    personal = ""  # Indonesian passports leave the optional-data field empty
    lines = td3_lines("P", "IDN", surname, given, number, "IDN", person.birth_date, sex,
                      expiry, personal)
    page = guilloche(PASSPORT_SIZE_PX, (236, 228, 214), (214, 190, 190), seed)
    draw = ImageDraw.Draw(page)
    w = PASSPORT_SIZE_PX[0]
    text(draw, (w * 0.6, 40), "REPUBLIK INDONESIA", 34, anchor="mm")
    text(draw, (w * 0.6, 80), "PASPOR / PASSPORT", 26, anchor="mm")
    x0, y0, x1, y1 = box_px(PASSPORT_PORTRAIT_BOX, PASSPORT_SIZE_PX)
    page.paste(portrait((x1 - x0, y1 - y0), (235, 235, 240)), (x0, y0))
    rows = (("Nama Lengkap / Full Name", f"{given} {surname}"),
            ("No. Paspor / Passport No.", number),
            ("Tanggal Lahir / Date of Birth", person.birth_date.strftime("%d %b %Y").upper()),
            ("Jenis Kelamin / Sex", sex),
            ("Tempat Lahir / Place of Birth", person.birth_place),
            ("Tanggal Habis Berlaku / Date of Expiry", expiry.strftime("%d %b %Y").upper()))
    for i, (label, value) in enumerate(rows):
        y = 140 + i * 68
        text(draw, (x1 + 40, y), label, 18, bold=False, fill=(70, 60, 60))
        text(draw, (x1 + 40, y + 24), value, 26)
    _mrz_text(draw, lines)
    image = np.asarray(page)
    return image, passport_fields(surname, given, number, person.birth_date, sex, expiry,
                                  personal, lines)
