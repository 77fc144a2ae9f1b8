"""Exact nearest-neighbour search over face embeddings (pure numpy).

Exact search over 1M 128-d float32 embeddings (512 MB) takes ~35 ms a probe on these CPUs,
enough for a regency or a province. At national scale a vector engine takes over behind the
`verifier.gallery.Gallery` protocol; `ExactIndex` then stays the reference its top-1 answers
are checked against. The persisted gallery around it is verifier.galleries.face.
"""

from __future__ import annotations

import numpy as np

from verifier.face.embedding import EMBEDDING_DIM


class ExactIndex:
    """Brute-force nearest neighbours by Euclidean distance; rows are added in bulk or one by
    one, removed by position mask. Rows go into spare capacity (half as many again as held,
    never written until used) and only the new rows' norms are computed: every Finish enrols
    a face, and copying the whole matrix for it (51 MB at 100,000 faces) cost more than the
    search."""

    def __init__(self, dim: int = EMBEDDING_DIM) -> None:
        self.dim = dim
        self._matrix = np.empty((0, dim), dtype=np.float32)  # capacity; the first n are rows
        self._sq_norms = np.empty(0, dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[:self._n]

    @property
    def sq_norms(self) -> np.ndarray:
        return self._sq_norms[:self._n]

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        end = self._n + len(vectors)
        if end > len(self._sq_norms):
            self._reallocate(self.matrix, self.sq_norms, end)
        self._matrix[self._n:end] = vectors
        self._sq_norms[self._n:end] = np.einsum("ij,ij->i", vectors, vectors)
        self._n = end

    def keep(self, mask: np.ndarray) -> None:
        kept = int(mask.sum())
        self._reallocate(self.matrix[mask], self.sq_norms[mask], kept)
        self._n = kept

    def _reallocate(self, rows: np.ndarray, sq_norms: np.ndarray, n: int) -> None:
        capacity = max(n + n // 2, 64)
        self._matrix = np.empty((capacity, self.dim), dtype=np.float32)
        self._matrix[:len(rows)] = rows
        self._sq_norms = np.empty(capacity, dtype=np.float32)
        self._sq_norms[:len(sq_norms)] = sq_norms

    def search(self, probe: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, distances) of the top_k nearest rows, nearest first."""
        if len(self) == 0 or top_k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        p = np.asarray(probe, dtype=np.float32).reshape(self.dim)
        # |a-b|^2 = |a|^2 - 2 a.b + |b|^2: one matrix-vector product over the whole gallery.
        sq = self.sq_norms - 2.0 * (self.matrix @ p) + float(p @ p)
        k = min(top_k, len(self))
        part = np.argpartition(sq, k - 1)[:k] if k < len(self) else np.arange(len(self))
        order = part[np.argsort(sq[part], kind="stable")]
        return order, np.sqrt(np.maximum(sq[order], 0.0))
