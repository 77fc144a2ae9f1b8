"""Indonesian region codes used in NIKs (Kemendagri / Dukcapil codes) and the place-name
gazetteer from the `areaid` package.

`areaid` carries names (province > kabupaten/kota > kecamatan > kelurahan/desa) but not the
Kemendagri codes, so the province codes and Bengkulu's regency codes are listed here.
"""

from __future__ import annotations

from functools import cache

# Kemendagri province codes. 91-96 follow the 2022 split of Papua; NIKs issued before it in
# the provinces now split keep their old code, which is why 91 and 92 remain valid.
PROVINCES: dict[str, str] = {
    "11": "ACEH", "12": "SUMATERA UTARA", "13": "SUMATERA BARAT", "14": "RIAU",
    "15": "JAMBI", "16": "SUMATERA SELATAN", "17": "BENGKULU", "18": "LAMPUNG",
    "19": "KEPULAUAN BANGKA BELITUNG", "21": "KEPULAUAN RIAU", "31": "DKI JAKARTA",
    "32": "JAWA BARAT", "33": "JAWA TENGAH", "34": "DI YOGYAKARTA", "35": "JAWA TIMUR",
    "36": "BANTEN", "51": "BALI", "52": "NUSA TENGGARA BARAT", "53": "NUSA TENGGARA TIMUR",
    "61": "KALIMANTAN BARAT", "62": "KALIMANTAN TENGAH", "63": "KALIMANTAN SELATAN",
    "64": "KALIMANTAN TIMUR", "65": "KALIMANTAN UTARA", "71": "SULAWESI UTARA",
    "72": "SULAWESI TENGAH", "73": "SULAWESI SELATAN", "74": "SULAWESI TENGGARA",
    "75": "GORONTALO", "76": "SULAWESI BARAT", "81": "MALUKU", "82": "MALUKU UTARA",
    "91": "PAPUA", "92": "PAPUA BARAT", "93": "PAPUA SELATAN", "94": "PAPUA TENGAH",
    "95": "PAPUA PEGUNUNGAN", "96": "PAPUA BARAT DAYA",
}

# Regency (kabupaten/kota) codes, four digits: province + regency. Bengkulu's in full; Lebong
# (1707) was split from Rejang Lebong (1702), so older Lebong residents may hold 1702 NIKs.
REGENCIES: dict[str, str] = {
    "1701": "BENGKULU SELATAN", "1702": "REJANG LEBONG", "1703": "BENGKULU UTARA",
    "1704": "KAUR", "1705": "SELUMA", "1706": "MUKOMUKO", "1707": "LEBONG",
    "1708": "KEPAHIANG", "1709": "BENGKULU TENGAH", "1771": "KOTA BENGKULU",
}



def regency_card_name(regency_code: str) -> str | None:
    """The name as the KTP header prints it: "KABUPATEN LEBONG" or "KOTA BENGKULU"."""
    name = REGENCIES.get(regency_code)
    if name is None:
        return None
    return name if name.startswith("KOTA ") else f"KABUPATEN {name}"


@cache
def bengkulu_gazetteer() -> dict[str, dict[str, tuple[str, ...]]]:
    """Bengkulu's regencies -> kecamatan -> kelurahan/desa names, upper-case, from `areaid`.

    Keys are the regency names of REGENCIES ("LEBONG", "KOTA BENGKULU").
    """
    import areaid

    by_regency: dict[str, dict[str, tuple[str, ...]]] = {}
    for province in areaid.buka_data("bengkulu"):
        for kabupaten in province["kabupaten"]:
            name = str(kabupaten["kab_kota"]).upper().removeprefix("KABUPATEN ").strip()
            name = _normalise_spelling(name)
            by_regency[name] = {
                _normalise_spelling(str(kec["kec"]).upper()): tuple(
                    _normalise_spelling(str(kel["kelu"]).upper()) for kel in kec["kelurahan"])
                for kec in kabupaten["kecamatan"]}
    return by_regency


def _normalise_spelling(name: str) -> str:
    # areaid writes "Muko Muko" and lists alternative spellings as "DANEO / DANEU / DANAU";
    # cards print one spelling.
    name = name.split("/")[0].replace("-", " ")
    name = " ".join(name.split())
    return "MUKOMUKO" if name == "MUKO MUKO" else name
