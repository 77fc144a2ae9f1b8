"""Duplicate-identity search (1:N) over face embeddings: exact numpy search, persisted in the
case store's database (table `face_gallery`), implementing `verifier.gallery.Gallery`.

Exact search over 1M 128-d float32 embeddings (512 MB) takes ~35 ms a probe on these CPUs,
enough for a regency or a province. At national scale a vector engine takes over behind the
same `Gallery` protocol; `ExactIndex` then stays the reference its top-1 answers are checked
against.

The database is the truth: every process (the verifier, the review page that enrols approved
cases) writes rows there, and each gallery object catches up with rows written by others
before it searches.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import (Column, DateTime, Integer, LargeBinary, MetaData, String, Table,
                        UniqueConstraint, delete, func, select)
from sqlalchemy.engine import Engine

from verifier.cases.crypto import KeyRing, sealed_key_id
from verifier.cases.store import CaseStore
from verifier.errors import InvalidInput
from verifier.face.embedding import EMBEDDING_DIM
from verifier.gallery import Candidate, Enrolment

_metadata = MetaData()
face_gallery = Table(
    "face_gallery", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("label", String(32), nullable=False),
    Column("nik", String(32), nullable=False, index=True),
    # 128 float32 little-endian, sealed with the case store's evidence keys (AES-256-GCM):
    # an embedding is a biometric template.
    Column("embedding", LargeBinary, nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "label"),
)


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


def _check_embedding(template: np.ndarray) -> np.ndarray:
    vector = np.asarray(template, dtype=np.float32)
    if vector.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(vector)):
        raise InvalidInput(f"a face template must be {EMBEDDING_DIM} finite numbers; got shape "
                           f"{vector.shape}", metadata={"shape": str(vector.shape)})
    return vector


class FaceGallery:
    """`Gallery[np.ndarray]`: scores are 1 - Euclidean distance, like every face `Match`."""

    def __init__(self, engine: Engine, keys: KeyRing) -> None:
        self.engine = engine
        self.keys = keys
        _metadata.create_all(engine)
        self._lock = threading.Lock()
        self._index = ExactIndex()
        self._row_ids = np.empty(0, dtype=np.int64)
        self._enrolments: list[Enrolment] = []

    def _catch_up(self) -> None:
        """Load rows other processes added; reload everything if rows went away."""
        with self.engine.connect() as db:
            last = int(self._row_ids[-1]) if self._row_ids.size else 0
            still_there = db.scalar(select(func.count()).select_from(face_gallery)
                                    .where(face_gallery.c.id <= last)) or 0
            if still_there != len(self._enrolments):  # removed or replaced elsewhere
                self._index, self._row_ids, self._enrolments = ExactIndex(), self._row_ids[:0], []
                last = 0
            rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                     face_gallery.c.nik, face_gallery.c.label,
                                     face_gallery.c.embedding)
                              .where(face_gallery.c.id > last)
                              .order_by(face_gallery.c.id)).all()
        if not rows:
            return
        self._index.add(np.stack([self._open(r.embedding, r.case_id, r.label) for r in rows]))
        self._row_ids = np.concatenate([self._row_ids, [r.id for r in rows]]).astype(np.int64)
        self._enrolments += [Enrolment(case_id=r.case_id, nik=r.nik, label=r.label)
                             for r in rows]

    def enrol(self, enrolment: Enrolment, template: np.ndarray) -> None:
        vector = _check_embedding(template)
        with self._lock, self.engine.begin() as db:
            db.execute(delete(face_gallery).where(face_gallery.c.case_id == enrolment.case_id,
                                                  face_gallery.c.label == enrolment.label))
            db.execute(face_gallery.insert().values(
                case_id=enrolment.case_id, label=enrolment.label, nik=enrolment.nik,
                embedding=self.keys.seal(vector.astype("<f4").tobytes(),
                                         _context(enrolment.case_id, enrolment.label)),
                enrolled_at=datetime.now(timezone.utc)))

    def search(self, probe: np.ndarray, top_k: int = 5) -> list[Candidate]:
        vector = _check_embedding(probe)
        with self._lock:
            self._catch_up()
            positions, distances = self._index.search(vector, top_k)
            return [Candidate(enrolment=self._enrolments[p], score=1.0 - float(d))
                    for p, d in zip(positions, distances)]

    def templates_of_nik(self, nik: str) -> list[tuple[Enrolment, np.ndarray]]:
        """Every face enrolled under `nik` (for "same NIK, different face")."""
        with self.engine.connect() as db:
            rows = db.execute(select(face_gallery.c.case_id, face_gallery.c.label,
                                     face_gallery.c.embedding)
                              .where(face_gallery.c.nik == nik)
                              .order_by(face_gallery.c.id)).all()
        return [(Enrolment(case_id=r.case_id, nik=nik, label=r.label),
                 self._open(r.embedding, r.case_id, r.label)) for r in rows]

    def _open(self, sealed: bytes, case_id: str, label: str) -> np.ndarray:
        return np.frombuffer(self.keys.open(sealed, _context(case_id, label)), dtype="<f4").copy()

    def reencrypt(self, new_keys: KeyRing) -> int:
        """Re-seal every embedding not sealed with `new_keys`' active key (key rotation)."""
        changed = 0
        with self._lock, self.engine.begin() as db:
            rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                     face_gallery.c.label, face_gallery.c.embedding)).all()
            for r in rows:
                if sealed_key_id(r.embedding) == new_keys.active_id:
                    continue
                context = _context(r.case_id, r.label)
                db.execute(face_gallery.update().where(face_gallery.c.id == r.id).values(
                    embedding=new_keys.seal(new_keys.open(r.embedding, context), context)))
                changed += 1
        self.keys = new_keys
        return changed

    def remove_case(self, case_id: str) -> int:
        with self._lock, self.engine.begin() as db:
            removed = db.execute(delete(face_gallery)
                                 .where(face_gallery.c.case_id == case_id)).rowcount
        return int(removed or 0)

    def __len__(self) -> int:
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(face_gallery)) or 0)


_galleries: weakref.WeakKeyDictionary[Engine, FaceGallery] = weakref.WeakKeyDictionary()
_galleries_lock = threading.Lock()


def _context(case_id: str, label: str) -> str:
    """Binds a sealed embedding to its row: one copied onto another case will not open."""
    return f"face_gallery:{case_id}:{label}"


def gallery_for(store: CaseStore) -> FaceGallery:
    """The one gallery object of a case store's database, sealed with its evidence keys."""
    with _galleries_lock:
        gallery = _galleries.get(store.engine)
        if gallery is None:
            gallery = _galleries[store.engine] = FaceGallery(store.engine, store.keys)
        return gallery
