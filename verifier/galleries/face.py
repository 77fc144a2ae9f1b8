"""Duplicate-identity search (1:N) over face embeddings: `verifier.face.index.ExactIndex` over
the rows of table `face_gallery`, implementing `verifier.gallery.Gallery[np.ndarray]`.

An `Enrolment` given to `enrol` carries the NIK in clear; every `Enrolment` this gallery
returns carries the NIK's keyed hash (verifier.galleries.nik) instead: compare it with a NIK
through `same_nik`.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from verifier.cases.crypto import KeyRing
from verifier.errors import InvalidInput
from verifier.face.embedding import EMBEDDING_DIM
from verifier.face.index import ExactIndex
from verifier.galleries.nik import NikHasher
from verifier.galleries.rows import delete_rows, follower_for, gallery_write, reseal_rows
from verifier.galleries.schema import context, face_gallery
from verifier.gallery import Candidate, Enrolment

_TABLE = face_gallery.name


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
        self._lock = threading.Lock()
        self._index = ExactIndex()
        self._row_ids = np.empty(0, dtype=np.int64)
        self._enrolments: list[Enrolment] = []
        self._follower = follower_for(engine, face_gallery)

    def _catch_up(self) -> None:
        """Drop rows removed elsewhere and load rows other processes added."""
        with self.engine.connect() as db:
            gone, to_load = self._follower.changes(db, self._row_ids)
            rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                     face_gallery.c.nik_hash, face_gallery.c.label,
                                     face_gallery.c.embedding)
                              .where(to_load).order_by(face_gallery.c.id)).all()
        if gone.size:
            keep = ~np.isin(self._row_ids, gone)
            self._index.keep(keep)
            self._row_ids = self._row_ids[keep]
            self._enrolments = [e for e, k in zip(self._enrolments, keep) if k]
        if rows:
            self._index.add(np.stack([self._open(r.embedding, r.case_id, r.label)
                                      for r in rows]))
            self._row_ids = np.concatenate([self._row_ids, [r.id for r in rows]]
                                           ).astype(np.int64)
            self._enrolments += [Enrolment(case_id=r.case_id, nik=r.nik_hash, label=r.label)
                                 for r in rows]
        self._follower.looked(self._row_ids)

    def enrol(self, enrolment: Enrolment, template: np.ndarray) -> None:
        """`enrolment.nik` in clear; enrolling the same (case, label) again replaces it."""
        vector = _check_embedding(template)
        case_id, label = enrolment.case_id, enrolment.label
        with gallery_write(face_gallery), self._lock, self.engine.begin() as db:
            delete_rows(db, face_gallery, (face_gallery.c.case_id == case_id)
                        & (face_gallery.c.label == label))
            db.execute(face_gallery.insert().values(
                case_id=case_id, label=label, nik_hash=NikHasher(self.keys).hash(enrolment.nik),
                nik=self.keys.seal(enrolment.nik.strip().encode(),
                                   context(_TABLE, "nik", case_id, label)),
                embedding=self.keys.seal(vector.astype("<f4").tobytes(),
                                         context(_TABLE, "embedding", case_id, label)),
                enrolled_at=datetime.now(timezone.utc)))

    def load(self) -> None:
        """Load every enrolled row now (at start-up, before the server says SERVING), so
        that the first search does not pay for opening the whole gallery."""
        with self._lock:
            self._catch_up()

    def search(self, probe: np.ndarray, top_k: int = 5) -> list[Candidate]:
        vector = _check_embedding(probe)
        with self._lock:
            self._catch_up()
            positions, distances = self._index.search(vector, top_k)
            return [Candidate(enrolment=self._enrolments[p], score=1.0 - float(d))
                    for p, d in zip(positions, distances)]

    def same_nik(self, nik_hash: str, nik: str) -> bool:
        """Whether a returned `Enrolment.nik` (a keyed hash) is this NIK's."""
        return NikHasher(self.keys).matches(nik_hash, nik)

    def templates_of_nik(self, nik: str) -> list[tuple[Enrolment, np.ndarray]]:
        """Every face enrolled under `nik` (for "same NIK, different face")."""
        with self.engine.connect() as db:
            rows = db.execute(select(face_gallery.c.case_id, face_gallery.c.label,
                                     face_gallery.c.nik_hash, face_gallery.c.embedding)
                              .where(face_gallery.c.nik_hash.in_(NikHasher(self.keys)
                                                                 .lookups(nik)))
                              .order_by(face_gallery.c.id)).all()
        return [(Enrolment(case_id=r.case_id, nik=r.nik_hash, label=r.label),
                 self._open(r.embedding, r.case_id, r.label)) for r in rows]

    def _open(self, sealed: bytes, case_id: str, label: str) -> np.ndarray:
        return np.frombuffer(self.keys.open(sealed, context(_TABLE, "embedding", case_id, label)),
                             dtype="<f4").copy()

    def reencrypt(self, new_keys: KeyRing) -> int:
        """Re-seal every row not sealed with `new_keys`' active key and re-hash its NIK (key
        rotation); returns how many rows changed."""
        with self._lock:
            changed = reseal_rows(self.engine, face_gallery, "label", ("nik", "embedding"),
                                  new_keys)
            self.keys = new_keys
        return changed

    def remove_case(self, case_id: str) -> int:
        with self._lock, self.engine.begin() as db:
            return delete_rows(db, face_gallery, face_gallery.c.case_id == case_id)

    def __len__(self) -> int:
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(face_gallery)) or 0)


_galleries: weakref.WeakKeyDictionary[Engine, FaceGallery] = weakref.WeakKeyDictionary()
_galleries_lock = threading.Lock()


def gallery_for(engine: Engine, keys: KeyRing) -> FaceGallery:
    """The one face gallery object of a database (the case store's engine), sealed with
    `keys` (the store's evidence keys; the first caller's keys stay until `reencrypt`)."""
    with _galleries_lock:
        gallery = _galleries.get(engine)
        if gallery is None:
            gallery = _galleries[engine] = FaceGallery(engine, keys)
        return gallery
