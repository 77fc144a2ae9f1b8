"""Tolerant comparison of Indonesian personal names, explaining the variant that matched.

Names on a KTP, a birth certificate, an old passport and a form typed at the counter differ
in ways that are not errors: titles and degrees ("HJ.", "DR.", ", S.PD."), the many spellings
and abbreviations of Muhammad ("MUHAMAD", "MOH.", "M."), the pre-1972 spelling ("SOEKARNO",
"DJOKO"), spacing ("NURHAYATI" / "NUR HAYATI"), an initial for a middle name, and a
patronymic ("BIN SULAIMAN") on one document only. Those count as the same name, with the
variant named. A name with a whole word missing, or a word one letter off, is `PARTIAL`: a
person should look. Anything else is `DIFFERENT`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# Titles written before the name: religious (Haji, Hajjah, Kyai Haji), academic and
# professional. Aristocratic names (Raden, Teuku, Andi) are part of the name and kept.
PREFIX_TITLES = frozenset({
    "H", "HJ", "HAJI", "HAJJAH", "HAJAH", "KH", "KYAI", "USTADZ", "USTAZ", "USTADZAH",
    "DR", "DRS", "DRA", "IR", "PROF", "DRG", "DRH", "TN", "NY", "NN", "SDR", "SDRI",
})
# Degrees written after the name, usually after a comma ("SITI AMINAH, S.PD."), matched
# with their dots removed.
DEGREES = frozenset({
    "SPD", "SPDI", "SH", "SE", "SKOM", "ST", "SSOS", "SAG", "SKED", "SIP", "SSI", "SKM",
    "SFARM", "SKEP", "SHI", "SPSI", "SS", "SP", "SSTP", "MPD", "MSI", "MM", "MKES", "MH",
    "MT", "MAG", "MKOM", "AMD", "AMDKEB", "AMDKEP", "AMA", "AMAPD", "BA", "BSC", "MSC", "PHD",
    "MBA", "SPOG", "SPA", "SPPD", "LC", "MA",
})
MUHAMMAD_VARIANTS = frozenset({
    "MUHAMMAD", "MUHAMAD", "MUHAMMED", "MUHAMED", "MOHAMMAD", "MOHAMAD", "MOHAMMED",
    "MOHAMED", "MOCHAMMAD", "MOCHAMAD", "MUCHAMMAD", "MUCHAMAD", "MUHAMMMAD", "MOHD",
})
MUHAMMAD_ABBREVIATIONS = frozenset({"M", "MOH", "MOCH", "MUH", "MUCH", "MHD", "MD", "MUHD"})
PATRONYMIC_MARKERS = frozenset({"BIN", "BINTI", "BT", "BN"})
# Pre-1972 (Van Ophuijsen / Soewandi) spellings still printed on older documents, mapped to
# EYD. The old "J" for today's "Y" is left alone: "J" is also a modern letter.
# "CH" (old "kh") is left alone too: CHANDRA and MICHAEL are modern spellings.
OLD_SPELLING = (("OE", "U"), ("DJ", "J"), ("TJ", "C"), ("SJ", "SY"), ("NJ", "NY"))


class NameAgreement(enum.Enum):
    SAME = "same"  # identical once normalised, or a known variant (named in `variants`)
    PARTIAL = "partial"  # a word missing or one letter off: a person should look
    DIFFERENT = "different"


@dataclass(frozen=True)
class NameComparison:
    agreement: NameAgreement
    variants: tuple[str, ...]  # what differed and was tolerated, in English
    normalised_a: str
    normalised_b: str

    @property
    def explanation(self) -> str:
        return "; ".join(self.variants) or "identical"


@dataclass(frozen=True)
class _Normalised:
    words: tuple[str, ...]
    notes: tuple[str, ...]


def _normalise(name: str) -> _Normalised:
    notes: list[str] = []
    text = name.upper().replace("’", "'")
    if "," in text:
        # Everything after the first comma is degrees ("AHMAD, S.PD., M.PD.").
        text, degrees = text.split(",", 1)
        if degrees.strip():
            notes.append(f"degree '{degrees.strip()}' ignored")
    # Dots inside degrees ("S.PD") join; dots after initials ("M. RIZKI") separate words.
    raw = [w for w in re.split(r"[\s.\-']+", re.sub(r"(?<=\b[A-Z])\.(?=[A-Z]{1,4}\b)", "", text))
           if w]
    words = [w for w in (re.sub(r"[^A-Z]", "", w) for w in raw) if w]
    while len(words) > 1 and words[0] in PREFIX_TITLES:
        notes.append(f"title '{words[0]}' ignored")
        words = words[1:]
    while len(words) > 1 and words[-1] in DEGREES:
        notes.append(f"degree '{words[-1]}' ignored")
        words = words[:-1]
    canonical = []
    for i, word in enumerate(words):
        if word in MUHAMMAD_VARIANTS and word != "MUHAMMAD":
            notes.append(f"{word} is a spelling of MUHAMMAD")
            word = "MUHAMMAD"
        # A lone "M" ends a name as the initial of any M-name ("AHMAD M." for MAULANA).
        elif word in MUHAMMAD_ABBREVIATIONS and not (word == "M" and i == len(words) - 1):
            notes.append(f"{word} is an abbreviation of MUHAMMAD")
            word = "MUHAMMAD"
        canonical.append(word)
    return _Normalised(tuple(canonical), tuple(notes))


def _modernised(n: _Normalised) -> _Normalised:
    """Pre-1972 spellings rewritten word by word (only tried when the names differ as
    written: "SJ" in a joined "AGUSJUNAIDI" is no old spelling)."""
    words, notes = [], list(n.notes)
    for word in n.words:
        modern = word
        for old, new in OLD_SPELLING:
            modern = modern.replace(old, new)
        if modern != word:
            notes.append(f"old spelling {word} read as {modern}")
        words.append(modern)
    return _Normalised(tuple(words), tuple(notes))


def _squeeze(words: tuple[str, ...]) -> str:
    """Spacing and doubled letters ignored: NUR HAYATI == NURHAYATI, ABDULLAH == ABDULAH."""
    return re.sub(r"(.)\1+", r"\1", "".join(words))


def _without_patronymic(words: tuple[str, ...]) -> tuple[str, ...]:
    for i, word in enumerate(words):
        if word in PATRONYMIC_MARKERS and i > 0:
            return words[:i]
    return words


def _initials_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Same number of words, each equal or a single-letter initial of the other."""
    return len(a) == len(b) and any(x != y for x, y in zip(a, b)) and all(
        x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))
        for x, y in zip(a, b))


def _is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    it = iter(long)
    return all(any(w == x for x in it) for w in short)


def _one_letter_off(a: str, b: str) -> bool:
    """Levenshtein distance exactly 1 (one letter substituted, added or dropped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def compare_names(a: str, b: str) -> NameComparison:
    """How two written names relate; `variants` says what was tolerated."""
    na, nb = _normalise(a), _normalise(b)
    as_written = _compare(na, nb)
    if as_written.agreement is NameAgreement.SAME:
        return as_written
    modern = _compare(_modernised(na), _modernised(nb))
    return modern if modern.agreement is NameAgreement.SAME else as_written


def _compare(na: _Normalised, nb: _Normalised) -> NameComparison:
    notes = tuple(dict.fromkeys(na.notes + nb.notes))
    shown_a, shown_b = " ".join(na.words), " ".join(nb.words)

    def result(agreement: NameAgreement, *extra: str) -> NameComparison:
        return NameComparison(agreement, notes + extra, shown_a, shown_b)

    if not na.words or not nb.words:
        return result(NameAgreement.DIFFERENT, "a name is empty")
    if na.words == nb.words:
        return result(NameAgreement.SAME)
    if _squeeze(na.words) == _squeeze(nb.words):
        return result(NameAgreement.SAME, "spacing or doubled letters differ")
    pa, pb = _without_patronymic(na.words), _without_patronymic(nb.words)
    if (pa != na.words or pb != nb.words) and _squeeze(pa) == _squeeze(pb):
        dropped = na.words[len(pa):] or nb.words[len(pb):]
        return result(NameAgreement.SAME, f"patronymic '{' '.join(dropped)}' on one side only")
    if _initials_agree(pa, pb):
        return result(NameAgreement.SAME, "a word is written as its initial")
    short, long = sorted((pa, pb), key=len)
    if len(short) < len(long) and _is_subsequence(short, long):
        missing = [w for w in long if w not in short]
        return result(NameAgreement.PARTIAL, f"word(s) {' '.join(missing)} on one side only")
    if len(pa) == len(pb):
        off = [(x, y) for x, y in zip(pa, pb) if x != y]
        if len(off) == 1 and min(map(len, off[0])) >= 4 and _one_letter_off(*off[0]):
            return result(NameAgreement.PARTIAL,
                          f"{off[0][0]} and {off[0][1]} differ by one letter")
    return result(NameAgreement.DIFFERENT, "no known variant explains the difference")
