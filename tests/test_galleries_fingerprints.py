"""The persisted fingerprint gallery with real NBIS templates of generated fingers: a repeated
applicant found through the index and confirmed by Bozorth3, another person ranked below
them, replacement and removal, catch-up across two gallery objects, the NIK only as a keyed
hash, key rotation."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from verifier.cases.crypto import KeyRing, generate_ring
from verifier.cases.store import CaseStore
from verifier.config import Config
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.analysis import load_extractor
from verifier.fingerprint.extraction import MinutiaeExtractor
from verifier.galleries.fingerprints import (FingerprintGallery, FingerprintGalleryConfig,
                                             gallery_for)
from verifier.galleries.schema import fingerprint_gallery
from verifier.synthetic.fingerprints import impression

POSITIONS = (1, 2, 6, 7)
CASES = 10  # case i's finger at position p is generated finger 900 + 10 i + p


def nik(i: int) -> str:
    return f"17070101019000{i:02d}"


@pytest.fixture(scope="module")
def extractor(config: Config) -> MinutiaeExtractor:
    return load_extractor(config)


@pytest.fixture(scope="module")
def template(extractor: MinutiaeExtractor):  # noqa: ANN201 - a cached function
    @functools.cache
    def make(finger: int, k: int) -> bytes:
        return bytes(extractor.extract(impression(finger, k)).minutiae.to_iso_19794_2_2005())
    return make


def fingers(template, case: int, k: int, positions=POSITIONS) -> dict[int, bytes]:  # noqa: ANN001
    return {p: template(900 + 10 * case + p, k) for p in positions}


def enrolled(url: str, keys: KeyRing, extractor: MinutiaeExtractor, template,  # noqa: ANN001
             config: FingerprintGalleryConfig = FingerprintGalleryConfig()
             ) -> FingerprintGallery:
    gallery = FingerprintGallery(create_engine(url), keys, extractor, config)
    for case in range(CASES):
        assert gallery.enrol_case(f"case-{case}", nik(case), fingers(template, case, 0)) == 4
    return gallery


def test_duplicate_found_through_the_index(case_db_url: str, extractor: MinutiaeExtractor,
                                           template) -> None:  # noqa: ANN001
    store = CaseStore(case_db_url, generate_ring())
    # A shortlist of 2 of the 10 cases: whatever Bozorth3 sees came through the index.
    small = FingerprintGalleryConfig(shortlist_cases=2, shortlist_cases_single_finger=3,
                                     full_rerank_cases=1)
    writer = enrolled(case_db_url, store.keys, extractor, template, small)
    reader = FingerprintGallery(create_engine(case_db_url), store.keys, extractor, small)
    probe = fingers(template, 4, 2)  # case 4's applicant again, another press of each finger
    hits = reader.search_case(probe, exclude_case_id="new-case")
    assert {h.case_id for h in hits} <= {f"case-{c}" for c in range(CASES)}
    assert len({h.case_id for h in hits}) == 2
    genuine = [h for h in hits if h.case_id == "case-4"]
    assert sorted(h.position for h in genuine) == list(POSITIONS)  # every finger compared
    # The stranger ranked second: its two most index-similar fingers first, the other two
    # only if one of those reached the first-pass floor.
    other = [h.score for h in hits if h.case_id != "case-4"]
    floor = small.first_pass_floor
    assert (len(other) == 2 and max(other) < floor) or (len(other) == 4 and max(other) >= floor)
    assert min(h.score for h in genuine) > max(h.score for h in hits if h.case_id != "case-4")
    assert min(h.score for h in genuine) >= 44  # the configured match threshold
    assert reader.same_nik(genuine[0].nik_hash, nik(4)) and not reader.same_nik(
        genuine[0].nik_hash, nik(5))
    # Same position only, and one finger is enough to find the case (one finger's index
    # vector says little: its shortlist is longer, here every case).
    default = FingerprintGallery(create_engine(case_db_url), store.keys, extractor)
    [best, *_] = default.search_case({6: probe[6]})
    assert (best.case_id, best.position) == ("case-4", 6) and best.score >= 44
    # The case itself is left out when asked.
    assert "case-4" not in {h.case_id for h in reader.search_case(probe, "case-4")}

    # Replacement and removal by one object are seen by the other.
    assert writer.enrol_case("case-4", nik(4), {1: template(999, 0)}) == 1
    assert len(reader) == 4 * (CASES - 1) + 1
    assert {h.case_id for h in reader.search_case(probe)}.isdisjoint({"case-4"}) or all(
        h.position == 1 and h.score < 44 for h in reader.search_case(probe)
        if h.case_id == "case-4")
    assert writer.remove_case("case-4") == 1 and writer.remove_case("case-4") == 0
    assert "case-4" not in {h.case_id for h in reader.search_case(probe)}
    assert reader.templates_of_nik(nik(4)) == {}
    assert reader.templates_of_nik(nik(3)) == {"case-3": fingers(template, 3, 0)}

    # Nothing in the table names the applicant or holds a template in clear.
    with store.engine.connect() as conn:
        rows = conn.execute(select(fingerprint_gallery)).all()
    flat = [v for row in rows for v in row]
    # Whole NIKs, not a 4-digit prefix, which a random HMAC or ciphertext may contain.
    niks = [nik(i) for i in range(10)]
    assert not [v for v in flat if isinstance(v, str) and any(n in v for n in niks)]
    assert not [v for v in flat if isinstance(v, bytes)
                and (any(n.encode() in v for n in niks) or b"FMR" in v)]


def test_another_person_ranks_below_the_genuine(tmp_path: Path, extractor: MinutiaeExtractor,
                                                template) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    store = CaseStore(url)
    gallery = enrolled(url, store.keys, extractor, template)
    stranger = {p: template(1900 + p, 0) for p in POSITIONS}  # nobody enrolled
    hits = gallery.search_case(stranger)
    assert max(h.score for h in hits) < 44
    # Enrol the stranger's earlier visit: now they come first, by the index and by Bozorth3.
    gallery.enrol_case("stranger-1", "3201010101010001",
                       {p: template(1900 + p, 1) for p in POSITIONS})
    hits = gallery.search_case(stranger)
    assert hits[0].case_id == "stranger-1"
    assert {h.case_id for h in hits if h.score >= 44} == {"stranger-1"}


def test_refuses_bad_positions_and_templates(tmp_path: Path, extractor: MinutiaeExtractor,
                                             template) -> None:  # noqa: ANN001
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    gallery = gallery_for(store.engine, store.keys, extractor)
    assert gallery is gallery_for(store.engine, store.keys, extractor)
    with pytest.raises(InvalidInput, match="position 11"):
        gallery.enrol_case("c", nik(1), {11: template(901, 0)})
    with pytest.raises(InvalidInput):
        gallery.search_case({1: b"FMR\x00 20\x00garbage"})
    assert gallery.search_case({1: template(901, 0)}) == [] and len(gallery) == 0


def test_key_rotation_reseals_and_rehashes(tmp_path: Path, extractor: MinutiaeExtractor,
                                           template) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    store = CaseStore(url)
    gallery = FingerprintGallery(store.engine, store.keys, extractor)
    gallery.enrol_case("case-1", nik(1), fingers(template, 1, 0, (2, 7)))
    rotated = generate_ring(store.keys)
    assert gallery.reencrypt(rotated) == 2 and gallery.reencrypt(rotated) == 0
    only_new = KeyRing({rotated.active_id: rotated.keys[rotated.active_id]}, rotated.active_id)
    fresh = FingerprintGallery(create_engine(url), only_new, extractor)
    assert fresh.templates_of_nik(nik(1)) == {"case-1": fingers(template, 1, 0, (2, 7))}
    [hit, *_] = fresh.search_case({7: template(917, 2)})
    assert hit.case_id == "case-1" and fresh.same_nik(hit.nik_hash, nik(1))
