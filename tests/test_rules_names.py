"""Indonesian name comparison: the variants that are the same name, and the ones that are not."""

from __future__ import annotations

import pytest

from verifier.consistency.names import NameAgreement, compare_names

SAME = [
    ("SITI AMINAH", "Siti  Aminah", "identical"),
    ("HJ. SITI AMINAH, S.PD.", "SITI AMINAH", "title 'HJ'"),
    ("SITI AMINAH, S.Pd., M.Pd.", "SITI AMINAH", "degree 'S.PD., M.PD.'"),
    ("DR. IR. BUDI SANTOSO", "BUDI SANTOSO", "title 'IR'"),
    ("H. AHMAD DAHLAN", "AHMAD DAHLAN", "title 'H'"),
    ("DRS. BUDI SANTOSO MM", "BUDI SANTOSO", "degree 'MM'"),
    ("M. RIZKI PRATAMA", "MUHAMMAD RIZKI PRATAMA", "M is an abbreviation of MUHAMMAD"),
    ("MOH. RIZKI", "MUHAMAD RIZKI", "MOH is an abbreviation of MUHAMMAD"),
    ("MOHAMMAD RIZKI", "MUHAMMAD RIZKI", "MOHAMMAD is a spelling of MUHAMMAD"),
    ("MOCHAMMAD ALI", "MUHAMMAD ALI", "MOCHAMMAD is a spelling of MUHAMMAD"),
    ("NURHAYATI", "NUR HAYATI", "spacing"),
    ("ABDULLAH", "ABDULAH", "doubled letters"),
    ("SOEKARNO", "SUKARNO", "old spelling SOEKARNO read as SUKARNO"),
    ("DJOKO SOESILO", "JOKO SUSILO", "old spelling DJOKO read as JOKO"),
    ("AHMAD BIN SULAIMAN", "AHMAD", "patronymic 'BIN SULAIMAN'"),
    ("SITI BINTI HASAN", "SITI", "patronymic 'BINTI HASAN'"),
    ("SITI A.", "SITI AMINAH", "initial"),
    ("RIZKI AHMAD M.", "RIZKI AHMAD MAULANA", "initial"),  # a final M. is not Muhammad
    ("AGUS JUNAIDI", "AGUSJUNAIDI", "spacing"),  # joined words are not old spelling (SJ)
    ("SUPARMAN", "SUPARMAN", "identical"),
    ("CHANDRA WIJAYA", "CHANDRA WIJAYA", "identical"),
]


@pytest.mark.parametrize(("a", "b", "explained"), SAME)
def test_variants_of_one_name_are_the_same_and_explained(a: str, b: str, explained: str) -> None:
    c = compare_names(a, b)
    assert c.agreement is NameAgreement.SAME, c
    assert explained in c.explanation
    assert compare_names(b, a).agreement is NameAgreement.SAME  # symmetric


PARTIAL = [
    ("SITI AMINAH", "SITI AMINAH PUTRI", "PUTRI on one side only"),
    ("SUKARNO", "SUKARNO HADI", "HADI on one side only"),
    ("SITI AMINAH", "SITI AMINA", "AMINAH and AMINA differ by one letter"),
]


@pytest.mark.parametrize(("a", "b", "explained"), PARTIAL)
def test_a_missing_word_or_one_letter_needs_a_person(a: str, b: str, explained: str) -> None:
    c = compare_names(a, b)
    assert c.agreement is NameAgreement.PARTIAL, c
    assert explained in c.explanation


DIFFERENT = [
    ("SITI AMINAH", "BUDI SANTOSO"),
    ("SITI AMINAH", "SITI RAHMA"),
    ("MUHAMMAD RIZKI", "MUHAMMAD RIDWAN"),
    ("ANI", "ANA"),  # short words one letter apart are different names, not typos
    ("M. RIZKI", "RIZKI MAULANA"),
    ("", "SITI AMINAH"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_are_different(a: str, b: str) -> None:
    assert compare_names(a, b).agreement is NameAgreement.DIFFERENT
