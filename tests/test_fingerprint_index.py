"""The fingerprint index (pure numpy): the ISO/IEC 19794-2 parser agrees with NBIS, vectors
do not change when a finger is moved or turned, and the case shortlist ranks a repeated
applicant first."""

from __future__ import annotations

import numpy as np
import pytest

from verifier.config import Config
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.analysis import load_extractor
from verifier.fingerprint.index import (CaseIndex, IndexParams, index_vector, parse_minutiae,
                                        template_index_vector)
from verifier.synthetic.fingerprints import impression


def minutiae(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(20, 280, n), rng.uniform(20, 380, n),
                            rng.uniform(0, 360, n)])


def moved(m: np.ndarray, turn_deg: float, shift: tuple[float, float]) -> np.ndarray:
    t = np.radians(turn_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    xy = m[:, :2] @ rot.T + np.array(shift)
    return np.column_stack([xy, (m[:, 2] + turn_deg) % 360])


def test_parser_reads_what_nbis_writes(config: Config) -> None:
    extractor = load_extractor(config)
    template = extractor.extract(impression(801, 0)).minutiae.to_iso_19794_2_2005()
    ours = parse_minutiae(template)
    nbis = [(m.x(), m.y(), m.angle()) for m in extractor.load_template(template).get()]
    assert len(ours) == len(nbis) > 20
    assert np.allclose(ours, np.array(nbis))
    with pytest.raises(InvalidInput, match="holds"):
        parse_minutiae(template[:-6][:8] + (len(template) - 6).to_bytes(4, "big")
                       + template[12:-6])


def test_vector_ignores_placement_and_order() -> None:
    m = minutiae(60, 1)
    v = index_vector(m)
    assert v.shape == (IndexParams().dim,) and np.isclose(np.linalg.norm(v), 1.0)
    # Rotations by whole angle units of the format keep every pair's angles exact.
    assert np.allclose(index_vector(moved(m, 360 / 256 * 16, (31.0, -17.0))), v, atol=1e-5)
    assert np.allclose(index_vector(m[::-1]), v, atol=1e-6)
    assert not index_vector(m[:1]).any()  # one minutia: no pair, the zero vector


def test_shortlist_finds_the_repeated_case_by_summed_fingers() -> None:
    index = CaseIndex()
    rows, key = [], 0
    for case in range(300):
        for position in (1, 2, 3, 6, 7):
            key += 1
            rows.append((key, f"case-{case}", position,
                         index_vector(minutiae(45, case * 10 + position))))
    index.add(rows)
    rng = np.random.default_rng(9)

    def pressed_again(case: int, position: int) -> np.ndarray:
        m = moved(minutiae(45, case * 10 + position), rng.uniform(-30, 30), (40.0, -25.0))
        m = m[rng.random(len(m)) > 0.25]  # a quarter of the minutiae missing
        m[:, :2] += rng.normal(0, 3, (len(m), 2))
        return index_vector(np.concatenate([m, minutiae(6, 10_000 + position)]))  # spurious

    probes = {p: pressed_again(123, p) for p in (1, 2, 3, 6, 7)}
    top = index.shortlist(probes, top_k=3)
    assert top[0].case_id == "case-123" and sorted(top[0].positions) == [1, 2, 3, 6, 7]
    # Positions come most similar first: the one finger pressed again leads the strangers.
    mixed = {1: index_vector(minutiae(45, 77_001)), 6: probes[6],
             7: index_vector(minutiae(45, 77_007))}
    assert next(c for c in index.shortlist(mixed, 1500)
                if c.case_id == "case-123").positions[0] == 6
    assert top[0].score > 2 * top[1].score
    assert "case-123" not in [c.case_id for c in index.shortlist(probes, 3, "case-123")]
    # A position nobody enrolled contributes nothing; removed rows are gone.
    assert index.shortlist({4: probes[1]}, 3) == []
    index.remove_keys(np.arange(1, 6))  # case-0's five fingers
    assert len(index) == 1495 and "case-0" not in {
        c.case_id for c in index.shortlist(probes, 300)}
    # Cases added one at a time after a removal (into spare capacity) are found like the rest.
    for case in (300, 301):
        index.add([(key + n, f"case-{case}", p, index_vector(minutiae(45, case * 10 + p)))
                   for n, p in enumerate((1, 2, 3, 6, 7), start=1)])
        key += 5
    assert len(index) == 1505
    again = {p: pressed_again(301, p) for p in (1, 2, 3, 6, 7)}
    assert index.shortlist(again, 1)[0].case_id == "case-301"
    assert index.shortlist(probes, 1)[0].case_id == "case-123"


def test_template_vector_refuses_garbage() -> None:
    with pytest.raises(InvalidInput):
        template_index_vector(b"not a template at all, not even close")
