"""A fixed-length index vector per fingerprint template, and a case-level shortlist in front
of Bozorth3.

Bozorth3 costs 2-4 ms a comparison, so comparing a ten-finger applicant with every earlier
one grows to minutes. The index vector is a soft histogram of minutia pairs: for every two
minutiae at most `max_pair_distance_px` apart, the distance between them and each minutia's
direction relative to the line joining them. Those three numbers do not change when the
finger is moved or turned on the platen, so neither does the histogram; a missing or spurious
minutia changes only the pairs it takes part in. Vectors are compared by their dot product
after taking out the gallery's mean vector (what every print has in common), so an unrelated
finger scores about 0 and a missing finger adds no evidence either way.

A duplicate applicant repeats all ten fingers, so `CaseIndex.shortlist` ranks whole cases by
the sum over the fingers they share with the probe; the caller then re-ranks the few
shortlisted cases exactly with Bozorth3. Pure numpy: no NBIS, no store.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from lebong_contract.errors import InvalidInput
from verifier.fingerprint.template import check_template

# ISO/IEC 19794-2 angles are in units of 360/256 degrees.
_ANGLE_UNIT_DEG = 360.0 / 256.0
# The layout nbis-py writes and reads back (its reader finds no minutiae in the standard's
# finger-view layout): the 24-byte header, a 2-byte minutiae count, 6 bytes per minutia.
_COUNT_OFFSET = 24
_FIRST_MINUTIA = 26
_MINUTIA_BYTES = 6


@dataclass(frozen=True)
class IndexParams:
    """The histogram's shape. Changing any of them changes every vector: stored vectors then
    have to be recomputed from the templates (`IndexParams.version` is stored with them)."""

    max_pair_distance_px: float = 150.0
    min_pair_distance_px: float = 10.0  # closer pairs are mostly noise of the extractor
    distance_bins: int = 8
    angle_bins: int = 8

    @property
    def dim(self) -> int:
        return self.distance_bins * self.angle_bins * self.angle_bins

    @property
    def version(self) -> str:
        return (f"pairs-v1:{self.min_pair_distance_px:g}-{self.max_pair_distance_px:g}:"
                f"{self.distance_bins}x{self.angle_bins}x{self.angle_bins}")


def parse_minutiae(iso_19794_2: bytes) -> np.ndarray:
    """(n, 3) float64 of x px, y px, direction in degrees, from a record as nbis-py writes it
    (checked like every stored template: verifier.fingerprint.template)."""
    data = check_template(iso_19794_2)
    if len(data) < _FIRST_MINUTIA:
        raise InvalidInput("template has no minutiae count", reason="TEMPLATE_INVALID")
    (count,) = struct.unpack_from(">H", data, _COUNT_OFFSET)
    if len(data) != _FIRST_MINUTIA + _MINUTIA_BYTES * count:
        raise InvalidInput(f"template says {count} minutiae but holds {len(data)} bytes",
                           reason="TEMPLATE_INVALID")
    raw = np.frombuffer(data, dtype=">u2", count=3 * count, offset=_FIRST_MINUTIA
                        ).reshape(count, 3)
    x = raw[:, 0] & 0x3FFF  # the top two bits are the minutia type
    y = raw[:, 1] & 0x3FFF
    angle = (raw[:, 2] >> 8) * _ANGLE_UNIT_DEG  # high byte angle, low byte quality
    return np.stack([x, y, angle], axis=1).astype(np.float64)


def _soft_bins(value: np.ndarray, bins: int, circular: bool) -> tuple[np.ndarray, ...]:
    """Linear interpolation between the two nearest bin centres: (low bin, high bin, weight
    of the high bin). Hard bins would make a one-pixel jitter flip a pair between bins."""
    pos = value * bins - 0.5
    low = np.floor(pos)
    frac = pos - low
    low_i = low.astype(np.int64)
    high_i = low_i + 1
    if circular:
        return low_i % bins, high_i % bins, frac
    return np.clip(low_i, 0, bins - 1), np.clip(high_i, 0, bins - 1), frac


def index_vector(minutiae: np.ndarray, params: IndexParams = IndexParams()) -> np.ndarray:
    """The unit-length float32 index vector of one finger's minutiae ((n, 3) as from
    `parse_minutiae`). Fewer than two minutiae give the zero vector (it matches nothing)."""
    m = np.asarray(minutiae, dtype=np.float64).reshape(-1, 3)
    hist = np.zeros(params.dim)
    if len(m) >= 2:
        dx = m[None, :, 0] - m[:, None, 0]
        dy = m[None, :, 1] - m[:, None, 1]
        dist = np.hypot(dx, dy)
        # Both orders of every pair: the histogram then does not depend on minutia order.
        i, j = np.nonzero((dist >= params.min_pair_distance_px)
                          & (dist <= params.max_pair_distance_px))
        line = np.degrees(np.arctan2(dy[i, j], dx[i, j]))
        d = (dist[i, j] - params.min_pair_distance_px) / (
            params.max_pair_distance_px - params.min_pair_distance_px)
        a_i = ((m[i, 2] - line) % 360.0) / 360.0
        a_j = ((m[j, 2] - line) % 360.0) / 360.0
        d_bins = _soft_bins(d, params.distance_bins, circular=False)
        i_bins = _soft_bins(a_i, params.angle_bins, circular=True)
        j_bins = _soft_bins(a_j, params.angle_bins, circular=True)
        a = params.angle_bins
        for d_b, d_w in ((d_bins[0], 1 - d_bins[2]), (d_bins[1], d_bins[2])):
            for i_b, i_w in ((i_bins[0], 1 - i_bins[2]), (i_bins[1], i_bins[2])):
                for j_b, j_w in ((j_bins[0], 1 - j_bins[2]), (j_bins[1], j_bins[2])):
                    hist += np.bincount((d_b * a + i_b) * a + j_b, weights=d_w * i_w * j_w,
                                        minlength=params.dim)
    # The square root (Hellinger) keeps the most common pair shapes from outweighing the rest.
    vector = np.sqrt(hist)
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def template_index_vector(iso_19794_2: bytes, params: IndexParams = IndexParams()
                          ) -> np.ndarray:
    return index_vector(parse_minutiae(iso_19794_2), params)


@dataclass(frozen=True)
class ShortlistedCase:
    case_id: str
    score: float  # sum over shared positions of (similarity - the gallery's mean similarity)
    positions: tuple[int, ...]  # the probe's positions this case has enrolled, most similar first


class _PositionRows:
    """The vectors of one finger position. Rows are appended into spare capacity, because
    every Finish enrols ten rows and copying a position's whole matrix for each (200 MB at
    100,000 cases) cost more than the search; rows are dropped by mask. Every allocation
    (the start-up load, a growth, a drop) leaves half as much again spare: without it the
    first Finish after start-up or after a retention run paid for copying every position
    (4 s at 100,000 cases on a loaded machine). Spare rows are never written, so the
    operating system does not back them with memory until they are used."""

    def __init__(self, dim: int) -> None:
        self._vectors = np.empty((0, dim), dtype=np.float32)  # capacity; the first n are rows
        self._cases = np.empty(0, dtype=np.int64)  # case numbers (CaseIndex._case_ids)
        self._keys = np.empty(0, dtype=np.int64)  # the caller's row keys (database ids)
        self.n = 0
        self.total = np.zeros(dim, dtype=np.float64)  # for the mean vector

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors[:self.n]

    @property
    def cases(self) -> np.ndarray:
        return self._cases[:self.n]

    @property
    def keys(self) -> np.ndarray:
        return self._keys[:self.n]

    def add(self, vectors: np.ndarray, cases: np.ndarray, keys: np.ndarray) -> None:
        end = self.n + len(vectors)
        if end > len(self._keys):
            self._reallocate(self.vectors, self.cases, self.keys, end)
        self._vectors[self.n:end], self._cases[self.n:end] = vectors, cases
        self._keys[self.n:end] = keys
        self.n = end
        self.total += vectors.sum(axis=0, dtype=np.float64)

    def keep(self, mask: np.ndarray) -> None:
        self.total -= self.vectors[~mask].sum(axis=0, dtype=np.float64)
        kept = int(mask.sum())
        self._reallocate(self.vectors[mask], self.cases[mask], self.keys[mask], kept)
        self.n = kept

    def _reallocate(self, vectors: np.ndarray, cases: np.ndarray, keys: np.ndarray,
                    rows: int) -> None:
        """New arrays for `rows` rows and half as many spare, holding the given rows."""
        capacity = max(rows + rows // 2, 64)
        self._vectors = _filled(vectors, capacity)
        self._cases, self._keys = _filled(cases, capacity), _filled(keys, capacity)


def _filled(array: np.ndarray, capacity: int) -> np.ndarray:
    out = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    out[:len(array)] = array
    return out


class CaseIndex:
    """Index vectors of enrolled fingers, per ISO finger position (1-10), each row under a
    caller's integer key (the gallery's database row id) and a case id."""

    def __init__(self, params: IndexParams = IndexParams()) -> None:
        self.params = params
        self._rows: dict[int, _PositionRows] = {}
        self._case_ids: list[str] = []
        self._case_numbers: dict[str, int] = {}

    def __len__(self) -> int:
        return sum(len(r.keys) for r in self._rows.values())

    def keys(self) -> np.ndarray:
        """Every row key held."""
        held = [r.keys for r in self._rows.values()]
        return np.concatenate(held) if held else np.empty(0, dtype=np.int64)

    def add(self, rows: Iterable[tuple[int, str, int, np.ndarray]]) -> None:
        """Rows of (key, case id, position, vector)."""
        by_position: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        for key, case_id, position, vector in rows:
            number = self._case_numbers.get(case_id)
            if number is None:
                number = self._case_numbers[case_id] = len(self._case_ids)
                self._case_ids.append(case_id)
            by_position.setdefault(position, []).append((key, number, vector))
        for position, items in by_position.items():
            target = self._rows.setdefault(position, _PositionRows(self.params.dim))
            target.add(np.stack([v for _, _, v in items]).astype(np.float32),
                       np.array([n for _, n, _ in items], dtype=np.int64),
                       np.array([k for k, _, _ in items], dtype=np.int64))

    def remove_keys(self, keys: np.ndarray) -> None:
        for rows in self._rows.values():
            mask = ~np.isin(rows.keys, keys)
            if not mask.all():
                rows.keep(mask)

    def shortlist(self, probes: Mapping[int, np.ndarray], top_k: int,
                  exclude_case_id: str | None = None) -> list[ShortlistedCase]:
        """The top_k enrolled cases by summed centred similarity over the positions they share
        with `probes` (position -> index vector), best first."""
        scores = np.zeros(len(self._case_ids))
        # Per case and position, that finger's centred similarity; NaN where not shared.
        by_position = np.full((len(self._case_ids), 11), np.nan, dtype=np.float32)
        for position, probe in probes.items():
            rows = self._rows.get(position)
            if rows is None or not len(rows.keys):
                continue
            p = np.asarray(probe, dtype=np.float32).reshape(self.params.dim)
            mean = (rows.total / len(rows.keys)).astype(np.float32)
            sims = rows.vectors @ p - float(mean @ p)
            # A case enrolled once per position, so a plain scatter adds each finger once.
            scores[rows.cases] += sims
            by_position[rows.cases, position] = sims
        present = np.flatnonzero(~np.isnan(by_position).all(axis=1))
        if exclude_case_id is not None and exclude_case_id in self._case_numbers:
            present = present[present != self._case_numbers[exclude_case_id]]
        if top_k <= 0 or not present.size:
            return []
        k = min(top_k, present.size)
        part = present[np.argpartition(-scores[present], k - 1)[:k]] \
            if k < present.size else present
        order = part[np.argsort(-scores[part], kind="stable")]
        return [ShortlistedCase(case_id=self._case_ids[n], score=float(scores[n]),
                                positions=_most_similar_first(by_position[n]))
                for n in order]


def _most_similar_first(similarities: np.ndarray) -> tuple[int, ...]:
    shared = np.flatnonzero(~np.isnan(similarities))
    return tuple(int(p) for p in shared[np.argsort(-similarities[shared], kind="stable")])
