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
    one, removed by position mask."""

    def __init__(self, dim: int = EMBEDDING_DIM) -> None:
        self.dim = dim
        self.matrix = np.empty((0, dim), dtype=np.float32)
        self.sq_norms = np.empty(0, dtype=np.float32)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self.matrix = np.concatenate([self.matrix, vectors]) if len(self) else vectors
        self.sq_norms = np.einsum("ij,ij->i", self.matrix, self.matrix)

    def keep(self, mask: np.ndarray) -> None:
        self.matrix = np.ascontiguousarray(self.matrix[mask])
        self.sq_norms = self.sq_norms[mask]

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
