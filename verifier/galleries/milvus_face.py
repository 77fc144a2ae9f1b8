"""The face gallery searched by Milvus (`[face_gallery] engine = "milvus"`): the same
`verifier.gallery.Gallery[np.ndarray]` as verifier.galleries.face, with an approximate
nearest-neighbour index in place of each process's exact in-memory search.

The case store's `face_gallery` table stays the record. Enrolment, removal, key rotation and
"same NIK, other face" read and write that table exactly as the numpy gallery does (this
class is that gallery with another index); Milvus holds only an index of it: one
collection per embedder, rows keyed by `face_gallery.id`, holding that id and the vector.
Before it searches, each process catches up with the table through the same `RowFollower`
as the numpy gallery and upserts the rows it had not seen, and deletes the ones gone (both
idempotent by row id), so replicas sharing one Milvus keep it in step without a leader, and
a collection lost or dropped is refilled from the table at the next start. A hit is looked
up in the table by its id: a row deleted there is not returned even if Milvus still holds
it, case, label and keyed NIK hash come from the record (a key rotation re-hashes NIKs
there, never in Milvus), and the score is recomputed from the record's vector as
1 - Euclidean distance, like every face `Match`, whatever distance the engine reports.

Sealing trade-off: the table keeps every embedding sealed with the evidence keys, and the
numpy gallery opens them only into its process's memory. An ANN index has to compare
vectors, so Milvus holds them in clear, on its disk and in its memory, next to nothing but
row ids (no case id, label or NIK hash: linking a vector to a person needs the case store
too). A deployment that chooses Milvus accepts that a copy of its Milvus data is a copy of
every applicant's face template, and protects Milvus like the case store (its own network,
disk encryption, authentication via `milvus_token`); one that cannot keeps `engine = "numpy"`.

Milvus Lite (a `.db` path) serves one process at a time (it locks its directory): one
verifier on one machine, and `verifier galleries rebuild` only while that verifier is
stopped. The installed Milvus Lite is pure Python and walks every row at each search
(seconds at 100,000 faces, bench/REPORT-gallery-milvus.md): fit for tests and one office.
Several replicas, and large galleries, need a Milvus standalone or cluster (`http(s)://`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

from verifier.cases.crypto import KeyRing
from verifier.config import FaceGalleryConfig
from lebong_contract.errors import StoreUnavailable
from verifier.galleries.face import EmbedderIdentity, FaceGallery, _check_embedding
from verifier.galleries.schema import face_gallery
from verifier.gallery import Candidate, Enrolment

log = logging.getLogger(__name__)

_BATCH = 5_000  # rows an upsert carries (128-d: 2.5 MiB, far below gRPC's message limit)
_MAX_LIMIT = 16_384  # Milvus's largest search limit


def milvus_uri(config: FaceGalleryConfig, store_url: str) -> str:
    """The configured URI, or Milvus Lite's file next to a SQLite case store."""
    if config.milvus_uri:
        return config.milvus_uri
    url = make_url(store_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError("[face_gallery] engine = \"milvus\" needs [face_gallery] milvus_uri "
                         "(a Milvus server's http(s):// URI) unless the case store is a SQLite "
                         "file, next to which Milvus Lite keeps its own")
    return str(Path(url.database).with_suffix(".milvus.db"))


def collection_name(prefix: str, embedder: EmbedderIdentity) -> str:
    """One collection per embedder (Milvus allows letters, digits and "_")."""
    safe = "".join(c if c.isascii() and c.isalnum() else "_" for c in embedder.label)
    return f"{prefix}_{safe}"


def index_params(config: FaceGalleryConfig) -> tuple[dict[str, int], dict[str, int]]:
    """(build parameters, search parameters) of the configured index type."""
    if config.milvus_index == "HNSW":
        return ({"M": config.hnsw_m, "efConstruction": config.hnsw_ef_construction},
                {"ef": config.hnsw_ef})
    if config.milvus_index == "IVF_FLAT":
        return {"nlist": config.ivf_nlist}, {"nprobe": config.ivf_nprobe}
    return {}, {}  # FLAT: exact


class MilvusFaceIndex:
    """One embedder's Milvus collection: `face_gallery.id` -> vector, searched by L2."""

    def __init__(self, uri: str, config: FaceGalleryConfig, embedder: EmbedderIdentity
                 ) -> None:
        self.uri = uri
        self.config = config
        self.name = collection_name(config.milvus_collection, embedder)
        self.dimension = embedder.dimension
        self.build_params, self.search_params = index_params(config)
        with self._errors("connect to"):
            self.client = MilvusClient(uri=uri, token=config.milvus_token,
                                       timeout=config.milvus_timeout_s)
        with self._errors("open the collection of"):
            self._open()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """A Milvus failure becomes StoreUnavailable naming the URI and what failed."""
        try:
            yield
        except MilvusException as exc:
            lite = "" if "://" in self.uri else (
                " (a Milvus Lite file serves one process at a time: is another verifier "
                "using it? Several processes need a Milvus server URI)")
            log.error("face gallery: could not %s Milvus at %s: %s", action, self.uri, exc)
            raise StoreUnavailable(f"the face gallery could not {action} Milvus at "
                                   f"{self.uri}: {exc.message}{lite}",
                                   metadata={"uri": self.uri, "code": str(exc.code)}
                                   ) from None

    def _open(self) -> None:
        if self.client.has_collection(self.name):
            fields = {f["name"]: f for f in self.client.describe_collection(self.name)["fields"]}
            dim = int(fields.get("embedding", {}).get("params", {}).get("dim", 0))
            if dim != self.dimension:
                raise StoreUnavailable(
                    f"Milvus collection {self.name} at {self.uri} holds {dim}-d vectors, not "
                    f"this embedder's {self.dimension}: not this verifier's; set "
                    "[face_gallery] milvus_collection to another prefix",
                    metadata={"collection": self.name})
            built = self.client.describe_index(self.name, "embedding").get("index_type")
            if built == self.config.milvus_index:
                self.client.load_collection(self.name)
                return
            # The collection is an index of the case store: refilled at the next catch-up.
            log.warning("face gallery: Milvus collection %s was built as %s, configured %s: "
                        "dropped, to be refilled from the case store", self.name, built,
                        self.config.milvus_index)
            self.client.drop_collection(self.name)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)  # face_gallery.id
        schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=self.dimension)
        index = self.client.prepare_index_params()
        index.add_index(field_name="embedding", index_type=self.config.milvus_index,
                        metric_type="L2", params=self.build_params)
        self.client.create_collection(self.name, schema=schema, index_params=index)

    def ids(self) -> np.ndarray:
        """Every row id the collection holds, sorted."""
        found: list[int] = []
        with self._errors("read the row ids of"):
            rows = self.client.query_iterator(self.name, batch_size=10_000, filter="",
                                              output_fields=["id"])
            try:
                while batch := rows.next():
                    found.extend(int(r["id"]) for r in batch)
            finally:
                rows.close()
        return np.unique(np.array(found, dtype=np.int64))

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._errors("add rows to"):
            for start in range(0, len(ids), _BATCH):
                self.client.upsert(self.name, [
                    {"id": int(i), "embedding": v}
                    for i, v in zip(ids[start:start + _BATCH].tolist(),
                                    vectors[start:start + _BATCH].tolist())])

    def delete(self, ids: np.ndarray) -> None:
        if ids.size:
            with self._errors("delete rows from"):
                self.client.delete(self.name, ids=ids.tolist())

    def search(self, vector: np.ndarray, limit: int) -> list[int]:
        """Row ids of the `limit` nearest vectors, nearest first (as the index finds them)."""
        params = dict(self.search_params)
        if "ef" in params:
            params["ef"] = max(params["ef"], limit)  # HNSW returns at most ef neighbours
        with self._errors("search"):
            hits = self.client.search(self.name, data=[vector.tolist()], limit=limit,
                                      anns_field="embedding", output_fields=[],
                                      search_params={"metric_type": "L2", "params": params})
        return [int(h["id"]) for h in hits[0]]

    def close(self) -> None:
        """Close the connection; a Milvus Lite file is released for another process."""
        self.client.close()
        if "://" not in self.uri:
            from milvus_lite.server_manager import server_manager_instance
            server_manager_instance.release_server(self.uri)


class MilvusFaceGallery(FaceGallery):
    """`FaceGallery` whose search runs in Milvus: enrolment, removal, key rotation, `len` and
    `templates_of_nik` are the numpy gallery's, on the case store's table; the inherited
    in-memory index stays empty."""

    def __init__(self, engine: Engine, keys: KeyRing, embedder: EmbedderIdentity,
                 config: FaceGalleryConfig, uri: str) -> None:
        super().__init__(engine, keys, embedder)
        self.milvus = MilvusFaceIndex(uri, config, embedder)
        self._synced = False  # whether `_row_ids` has been read from the collection

    def _catch_up(self) -> None:
        """Bring the collection in step with the table: rows another process (or this one)
        enrolled are upserted, rows deleted there are deleted. `_row_ids` is what the
        collection holds; it starts as whatever the collection holds from earlier runs and
        other replicas, so a restart loads only what changed."""
        if not self._synced:
            self._row_ids = self.milvus.ids()
            self._synced = True
        with self.engine.connect() as db:
            gone, to_load = self._follower.changes(db, self._row_ids)
            rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                     face_gallery.c.label, face_gallery.c.embedding)
                              .where(to_load & self._mine).order_by(face_gallery.c.id)).all()
        if gone.size:
            self.milvus.delete(gone)
            self._row_ids = np.setdiff1d(self._row_ids, gone)
        if rows:
            ids = np.array([r.id for r in rows], dtype=np.int64)
            self.milvus.upsert(ids, np.stack([self._open(r.embedding, r.case_id, r.label)
                                              for r in rows]))
            self._row_ids = np.union1d(self._row_ids, ids)
        self._follower.looked(self._row_ids)

    def search(self, probe: np.ndarray, top_k: int = 5) -> list[Candidate]:
        vector = _check_embedding(probe, self.embedder)
        if top_k <= 0:
            return []
        with self._lock:
            self._catch_up()
            limit = top_k
            while True:
                hit_ids = self.milvus.search(vector, limit)
                with self.engine.connect() as db:
                    rows = db.execute(select(face_gallery.c.id, face_gallery.c.case_id,
                                             face_gallery.c.label, face_gallery.c.nik_hash,
                                             face_gallery.c.embedding)
                                      .where(face_gallery.c.id.in_(hit_ids) & self._mine)
                                      ).all()
                # Hits whose rows another process deleted since the catch-up are skipped;
                # search deeper if they leave fewer than top_k.
                if len(rows) >= top_k or len(hit_ids) < limit or limit >= _MAX_LIMIT:
                    break
                limit = min(limit * 4, _MAX_LIMIT)
        scored = sorted((float(np.linalg.norm(self._open(r.embedding, r.case_id, r.label)
                                               - vector)), r.id, r) for r in rows)
        return [Candidate(enrolment=Enrolment(case_id=r.case_id, nik=r.nik_hash,
                                              label=r.label), score=1.0 - distance)
                for distance, _, r in scored[:top_k]]

    def remove_case(self, case_id: str) -> int:
        """Every row of the case, whichever embedder made it; this embedder's leave Milvus at
        once (other processes' catch-ups would remove them too, but a removed case must not
        stay findable until one searches)."""
        with self.engine.connect() as db:
            ids = np.array(db.scalars(select(face_gallery.c.id).where(
                (face_gallery.c.case_id == case_id) & self._mine)).all(), dtype=np.int64)
        removed = super().remove_case(case_id)
        with self._lock:
            self.milvus.delete(ids)
        return removed

    def close(self) -> None:
        self.milvus.close()


_galleries: weakref.WeakKeyDictionary[
    Engine, dict[tuple[EmbedderIdentity, FaceGalleryConfig, str], MilvusFaceGallery]] = \
    weakref.WeakKeyDictionary()
_galleries_lock = threading.Lock()


def gallery_for(engine: Engine, keys: KeyRing, embedder: EmbedderIdentity,
                config: FaceGalleryConfig) -> MilvusFaceGallery:
    """The one Milvus face gallery object of a database (the case store's engine), embedder
    and configuration in this process (like verifier.galleries.face.gallery_for)."""
    uri = milvus_uri(config, engine.url.render_as_string(hide_password=False))
    key = (embedder, config, uri)
    with _galleries_lock:
        per_engine = _galleries.setdefault(engine, {})
        gallery = per_engine.get(key)
        if gallery is None:
            gallery = per_engine[key] = MilvusFaceGallery(engine, keys, embedder, config, uri)
        return gallery
