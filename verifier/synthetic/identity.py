"""Realistic Indonesian identities with exact ground truth, for synthetic documents.

Places come from the `areaid` gazetteer (Bengkulu province); NIKs are consistent with the
regency, birth date and sex. District codes are the kecamatan's position in the gazetteer
(01, 02, ...), not the official Kemendagri district code, which areaid does not carry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from verifier.documents.nik import Sex, decode_nik, encode_nik
from verifier.documents.regions import REGENCIES, bengkulu_gazetteer
from verifier.documents.vocabulary import (BLOOD_TYPES, MARITAL_STATUSES, OCCUPATIONS,
                                           RELIGIONS)

MALE_GIVEN = ("AHMAD", "BUDI", "RUDI", "AGUS", "HENDRA", "DEDI", "IRWAN", "YUSUF", "RIZKY",
              "FAJAR", "ARIF", "BAMBANG", "JOKO", "SURYA", "ANDI", "DIMAS", "HERMAN", "SYAHRIL")
FEMALE_GIVEN = ("SITI", "SRI", "DEWI", "NUR", "RINA", "YULIANA", "FITRI", "AYU", "INDAH",
                "WULAN", "RATNA", "LESTARI", "PUTRI", "MAYA", "ANISA", "NOVI", "HASNAH")
FAMILY = ("SANTOSO", "SAPUTRA", "HIDAYAT", "PRATAMA", "WAHYUNI", "SETIAWAN", "KURNIAWAN",
          "RAHMAWATI", "HASIBUAN", "SIREGAR", "NASUTION", "FEBRIANTI", "MARLINA", "SUSANTI",
          "SYAFRUDDIN", "ANGGRAINI", "RAMADHAN", "FIRMANSYAH", "HARAHAP", "PURNAMA")
STREETS = ("JL. MERDEKA", "JL. SUDIRMAN", "JL. AHMAD YANI", "JL. SOEKARNO HATTA",
           "JL. LINTAS MUARA AMAN", "JL. PASAR", "JL. RAYA CURUP", "DUSUN", "JL. KENANGA",
           "JL. FATMAWATI", "JL. PEMBANGUNAN")
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


@dataclass(frozen=True)
class Identity:
    nik: str
    name: str
    sex: Sex
    birth_place: str  # a regency or city name, as on the card
    birth_date: dt.date
    regency_code: str  # "1707"
    regency: str  # "LEBONG"
    kecamatan: str
    kelurahan: str
    address: str
    rt_rw: str  # "003/002"
    religion: str
    marital_status: str
    occupation: str
    blood_type: str
    issue_date: dt.date
    father_name: str
    mother_name: str
    child_order: int


def _full_name(rng: random.Random, sex: Sex) -> str:
    given = rng.choice(MALE_GIVEN if sex == "MALE" else FEMALE_GIVEN)
    parts = [given]
    if rng.random() < 0.4:
        parts.append(rng.choice(MALE_GIVEN if sex == "MALE" else FEMALE_GIVEN))
    parts.append(rng.choice(FAMILY))
    return " ".join(dict.fromkeys(parts))


def random_identity(rng: random.Random, today: dt.date = dt.date(2026, 11, 28)) -> Identity:
    gazetteer = bengkulu_gazetteer()
    # Most applicants at the Lebong office are from Lebong or Rejang Lebong.
    regency_code = rng.choice(("1707", "1707", "1707", "1702", "1702") + tuple(REGENCIES))
    regency = REGENCIES[regency_code]
    kecamatans = sorted(gazetteer[regency])
    kec_index = rng.randrange(len(kecamatans))
    kecamatan = kecamatans[kec_index]
    kelurahan = rng.choice(gazetteer[regency][kecamatan])
    sex: Sex = rng.choice(("MALE", "FEMALE"))
    birth_date = today - dt.timedelta(days=rng.randint(17 * 365, 75 * 365))
    district_code = f"{regency_code}{kec_index + 1:02d}"
    nik = encode_nik(district_code, birth_date, sex, rng.randint(1, 400))
    age_years = (today - birth_date).days // 365
    marital = "BELUM KAWIN" if age_years < 22 else rng.choice(MARITAL_STATUSES)
    occupation = "PELAJAR/MAHASISWA" if age_years < 22 else rng.choice(OCCUPATIONS)
    street = rng.choice(STREETS)
    address = f"{street} NO. {rng.randint(1, 120)}" if street != "DUSUN" else \
        f"DUSUN {rng.choice(('I', 'II', 'III', 'IV'))}"
    birth_place = rng.choice((regency, regency, rng.choice(list(REGENCIES.values())),
                              kecamatan)).removeprefix("KOTA ")
    family = rng.choice(FAMILY)
    return Identity(
        nik=nik, name=_full_name(rng, sex), sex=sex, birth_place=birth_place,
        birth_date=birth_date, regency_code=regency_code, regency=regency,
        kecamatan=kecamatan, kelurahan=kelurahan, address=address,
        rt_rw=f"{rng.randint(1, 15):03d}/{rng.randint(1, 8):03d}",
        religion=rng.choices(RELIGIONS, weights=(85, 6, 3, 2, 2, 1, 1))[0],
        marital_status=marital, occupation=occupation, blood_type=rng.choice(BLOOD_TYPES),
        issue_date=today - dt.timedelta(days=rng.randint(30, 3000)),
        father_name=f"{rng.choice(MALE_GIVEN)} {family}",
        mother_name=f"{rng.choice(FEMALE_GIVEN)} {rng.choice(FAMILY)}",
        child_order=rng.choices((1, 2, 3, 4, 5), weights=(40, 30, 15, 10, 5))[0])


def identity_with_nik(rng: random.Random, nik: str, name: str, birth_place: str) -> Identity:
    """An identity around a given Bengkulu NIK and name (the demo's applicant): birth date,
    sex and regency from the NIK, the kecamatan from its district digits where the gazetteer
    has that many, the rest random."""
    info = decode_nik(nik)
    if not info.valid or info.birth_date is None or info.sex is None:
        raise ValueError(f"NIK {nik} is not valid: {'; '.join(info.problems)}")
    if info.regency_code not in REGENCIES:
        raise ValueError(f"NIK {nik} is not from a Bengkulu regency")
    base = random_identity(rng)
    regency = REGENCIES[info.regency_code]
    kecamatans = sorted(bengkulu_gazetteer()[regency])
    index = int(nik[4:6]) - 1
    kecamatan = kecamatans[index] if 0 <= index < len(kecamatans) else rng.choice(kecamatans)
    return dataclasses.replace(
        base, nik=nik, name=name.upper(), sex=info.sex, birth_date=info.birth_date,
        birth_place=birth_place.upper(), regency_code=info.regency_code, regency=regency,
        kecamatan=kecamatan, kelurahan=rng.choice(bengkulu_gazetteer()[regency][kecamatan]))
