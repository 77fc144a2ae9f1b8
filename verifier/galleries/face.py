"""Duplicate-identity search (1:N) over face embeddings: `verifier.face.index.ExactIndex` over
the rows of table `face_gallery`, implementing `verifier.gallery.Gallery[np.ndarray]`.

A gallery is opened for one embedder (`EmbedderIdentity`: registry name, model file, vector
size) and enrols, loads and searches only that model's rows: a distance between two models'
vectors means nothing, so a switch of `[face] embedder` leaves the earlier rows unsearched
(logged at load) until `verifier galleries rebuild --re-embed` enrols those cases again.

An `Enrolment` given to `enrol` carries the NIK in clear; every `Enrolment` this gallery
returns carries the NIK's keyed hash (verifier.galleries.nik) instead: compare it with a NIK
through `same_nik`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from verifier.cases.crypto import KeyRing
from lebong_contract.errors import InvalidInput, ModelIntegrityError
from verifier.face.embedders import FaceEmbedder
from verifier.face.index import ExactIndex
from verifier.galleries.nik import NikHasher
from verifier.galleries.rows import delete_rows, follower_for, gallery_write, reseal_rows
from verifier.galleries.schema import EMBEDDER_CHARS, context, face_gallery
from verifier.gallery import Candidate, Enrolment

log = logging.getLogger(__name__)

_TABLE = face_gallery.name
REENROL_HINT = ("`verifier galleries rebuild --re-embed` enrols them again, embedding each "
                "finished case's kept live capture with the configured embedder")


@dataclass(frozen=True)
class EmbedderIdentity:
    """The model whose vectors a gallery holds. Its `label` is stored with every row; the
    flip setting is not part of it: a flip-averaged vector lies in the same model's space."""

    name: str  # registry name
    sha256: str  # of the model file
    dimension: int

    def __post_init__(self) -> None:
        if len(self.label) > EMBEDDER_CHARS:
            raise ModelIntegrityError(f"face embedder name {self.name[:40]}... is too long for "
                                      f"the face gallery (at most {EMBEDDER_CHARS - 13} "
                                      "characters)")

    @classmethod
    def of(cls, embedder: FaceEmbedder) -> EmbedderIdentity:
        return cls(name=embedder.name, sha256=embedder.sha256, dimension=embedder.dimension)

    @property
    def label(self) -> str:
        """What face_gallery.embedder holds: "<name>@<sha256, 12 hex>", as a face `Match`
        names its model."""
        return f"{self.name}@{self.sha256[:12]}"


def _check_embedding(template: np.ndarray, embedder: EmbedderIdentity) -> np.ndarray:
    vector = np.asarray(template, dtype=np.float32)
    if vector.shape != (embedder.dimension,) or not np.all(np.isfinite(vector)):
        raise InvalidInput(f"the face gallery of {embedder.label} takes {embedder.dimension} "
                           f"finite numbers (that model's embeddings); got shape {vector.shape}",
                           metadata={"shape": str(vector.shape), "embedder": embedder.label})
    return vector


class FaceGallery:
    """`Gallery[np.ndarray]` over one embedder's rows: scores are 1 - Euclidean distance,
    like every face `Match`."""

    def __init__(self, engine: Engine, keys: KeyRing, embedder: EmbedderIdentity) -> None:
        self.engine = engine
        self.keys = keys
        self.embedder = embedder
        self._mine = face_gallery.c.embedder == embedder.label
        self._lock = threading.Lock()
        self._index = ExactIndex(embedder.dimension)
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
                              .where(to_load & self._mine).order_by(face_gallery.c.id)).all()
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
        """`enrolment.nik` in clear; enrolling the same (case, label) again replaces it,
        whichever embedder made the earlier row."""
        vector = _check_embedding(template, self.embedder)
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
                embedder=self.embedder.label, enrolled_at=datetime.now(timezone.utc)))

    def load(self) -> None:
        """Load every enrolled row now (at start-up, before the server says SERVING), so
        that the first search does not pay for opening the whole gallery. Rows of other
        embedders are counted and logged: those applicants cannot be found."""
        with self._lock:
            self._catch_up()
        with self.engine.connect() as db:
            others = db.execute(select(face_gallery.c.embedder, func.count())
                                .where(~self._mine).group_by(face_gallery.c.embedder)
                                .order_by(face_gallery.c.embedder)).all()
        if others:
            log.warning("face gallery: %d enrolled faces were embedded by another model (%s), "
                        "not by the configured %s, and are not searched: those earlier "
                        "applicants cannot be found as duplicates. %s",
                        sum(n for _, n in others),
                        ", ".join(f"{label}: {n}" for label, n in others),
                        self.embedder.label, REENROL_HINT)

    def search(self, probe: np.ndarray, top_k: int = 5) -> list[Candidate]:
        vector = _check_embedding(probe, self.embedder)
        with self._lock:
            self._catch_up()
            positions, distances = self._index.search(vector, top_k)
            return [Candidate(enrolment=self._enrolments[p], score=1.0 - float(d))
                    for p, d in zip(positions, distances)]

    def same_nik(self, nik_hash: str, nik: str) -> bool:
        """Whether a returned `Enrolment.nik` (a keyed hash) is this NIK's."""
        return NikHasher(self.keys).matches(nik_hash, nik)

    def templates_of_nik(self, nik: str) -> list[tuple[Enrolment, np.ndarray]]:
        """Every face this embedder enrolled under `nik` (for "same NIK, different
        face")."""
        # The embedder is compared here, not in SQL: given both conditions, SQLite (without
        # ANALYZE statistics) walks the (embedder, id) index, every row of the model, instead
        # of the NIK hash's few (0.25 s at 100,000 cases against 0.3 ms).
        with self.engine.connect() as db:
            rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                     face_gallery.c.label, face_gallery.c.nik_hash,
                                     face_gallery.c.embedding, face_gallery.c.embedder)
                              .where(face_gallery.c.nik_hash.in_(NikHasher(self.keys)
                                                                 .lookups(nik)))).all()
        return [(Enrolment(case_id=r.case_id, nik=r.nik_hash, label=r.label),
                 self._open(r.embedding, r.case_id, r.label))
                for r in sorted(rows, key=lambda r: r.id) if r.embedder == self.embedder.label]

    def _open(self, sealed: bytes, case_id: str, label: str) -> np.ndarray:
        return np.frombuffer(self.keys.open(sealed, context(_TABLE, "embedding", case_id, label)),
                             dtype="<f4").copy()

    def reencrypt(self, new_keys: KeyRing) -> int:
        """Re-seal every row (of every embedder) not sealed with `new_keys`' active key and
        re-hash its NIK (key rotation); returns how many rows changed."""
        with self._lock:
            changed = reencrypt_faces(self.engine, new_keys)
            self.keys = new_keys
        return changed

    def remove_case(self, case_id: str) -> int:
        """Every row of the case, whichever embedder made it."""
        with self._lock, self.engine.begin() as db:
            return delete_rows(db, face_gallery, face_gallery.c.case_id == case_id)

    def __len__(self) -> int:
        """Faces this embedder enrolled (the ones a search sees)."""
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(face_gallery)
                                 .where(self._mine)) or 0)


def reencrypt_faces(engine: Engine, new_keys: KeyRing) -> int:
    """`FaceGallery.reencrypt` without a gallery object (no embedder needed)."""
    return reseal_rows(engine, face_gallery, "label", ("nik", "embedding"), new_keys)


_galleries: weakref.WeakKeyDictionary[Engine, dict[EmbedderIdentity, FaceGallery]] = \
    weakref.WeakKeyDictionary()
_galleries_lock = threading.Lock()


def gallery_for(engine: Engine, keys: KeyRing, embedder: EmbedderIdentity) -> FaceGallery:
    """The one face gallery object of a database (the case store's engine) and embedder,
    sealed with `keys` (the store's evidence keys; the first caller's keys stay until
    `reencrypt`)."""
    with _galleries_lock:
        per_embedder = _galleries.setdefault(engine, {})
        gallery = per_embedder.get(embedder)
        if gallery is None:
            gallery = per_embedder[embedder] = FaceGallery(engine, keys, embedder)
        return gallery
