"""The face gallery (1:N): exact search against a brute-force reference, persistence in the
case store's database, other processes' enrolments, replacement and removal, the NIK kept
only as a keyed hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, select

from verifier.cases.crypto import EvidenceKeyError, generate_ring
from verifier.cases.store import CaseStore
from verifier.config import Config
from lebong_contract.errors import InvalidInput
from verifier.face.embedders import DLIB_DIMENSION, DLIB_RESNET
from verifier.face.index import ExactIndex
from verifier.galleries.face import EmbedderIdentity, FaceGallery, gallery_for
from verifier.galleries.schema import face_gallery
from verifier.gallery import Enrolment
from verifier.models import read_registry



def registry_identity(name: str, dimension: int) -> EmbedderIdentity:
    """An embedder as the registry declares it (what the server opens its gallery for)."""
    entries = {e.name: e for e in read_registry(Config().models_registry)}
    return EmbedderIdentity(name, entries[name].sha256, dimension)


DLIB = registry_identity(DLIB_RESNET, DLIB_DIMENSION)


def vectors(n: int, seed: int = 0) -> np.ndarray:
    # The spread of dlib embeddings: components ~N(0, 0.09), norms ~1.
    return np.random.default_rng(seed).normal(0, 0.09, (n, 128)).astype(np.float32)


def nik(i: int) -> str:
    return f"17070100000000{i:02d}"


def test_exact_index_agrees_with_brute_force() -> None:
    data = vectors(5000)
    index = ExactIndex()
    index.add(data[:3000])
    index.add(data[3000:])
    for p in vectors(20, seed=1):
        rows, dist = index.search(p, 7)
        truth = np.linalg.norm(data.astype(np.float64) - p, axis=1)
        assert list(rows) == list(np.argsort(truth, kind="stable")[:7])
        assert np.allclose(dist, truth[rows], atol=1e-4)
    index.keep(np.arange(5000) % 2 == 0)
    assert len(index) == 2500
    rows, _ = index.search(data[10], 1)
    assert rows[0] == 5  # row 10 became row 5
    assert len(ExactIndex().search(data[0], 5)[0]) == 0
    # Rows added one at a time into spare capacity, after a drop, are searched like the
    # rest, and no spare row is ever returned.
    extra = vectors(40, seed=2)
    for v in extra:
        index.add(v)
    held = np.concatenate([data[::2], extra]).astype(np.float64)
    assert len(index) == len(held)
    for p in (extra[-1], data[20], vectors(1, seed=3)[0]):
        rows, dist = index.search(p, 10)
        truth = np.linalg.norm(held - p, axis=1)
        assert list(rows) == list(np.argsort(truth, kind="stable")[:10])
        assert np.allclose(dist, truth[rows], atol=1e-4)
    assert len(index.search(data[0], 10_000)[0]) == len(held)


def test_gallery_persists_catches_up_and_removes(case_db_url: str) -> None:
    data = vectors(50)
    store = CaseStore(case_db_url, generate_ring())  # migrations make the gallery tables
    writer = FaceGallery(create_engine(case_db_url), store.keys, DLIB)  # e.g. the review page
    reader = FaceGallery(create_engine(case_db_url), store.keys, DLIB)  # the verifier's sessions
    assert reader.search(data[0]) == []
    for i, v in enumerate(data):
        writer.enrol(Enrolment(f"case-{i}", nik(i), "face"), v)
    top = reader.search(data[7] + 0.001, top_k=3)
    assert top[0].enrolment.case_id == "case-7" and reader.same_nik(top[0].enrolment.nik, nik(7))
    assert not reader.same_nik(top[0].enrolment.nik, nik(8))
    assert top[0].score > 0.98 > top[1].score >= top[2].score  # 0.001 x 128 dims: d=0.011
    # Re-enrolling a case replaces its face; removal drops it, seen by the other object.
    writer.enrol(Enrolment("case-7", nik(7), "face"), data[8])
    assert len(writer) == 50
    assert {c.enrolment.case_id for c in reader.search(data[8], 2)} == {"case-7", "case-8"}
    assert writer.remove_case("case-8") == 1 and writer.remove_case("case-8") == 0
    assert [c.enrolment.case_id for c in reader.search(data[8], 1)] == ["case-7"]
    # A fresh process sees the same gallery from the database.
    fresh = FaceGallery(create_engine(case_db_url), store.keys, DLIB)
    assert len(fresh) == 49 and fresh.search(data[3], 1)[0].enrolment.case_id == "case-3"
    same_nik = fresh.templates_of_nik(nik(7))
    assert [e.case_id for e, _ in same_nik] == ["case-7"]
    assert np.allclose(same_nik[0][1], data[8])
    # No NIK in clear anywhere in the table.
    with store.engine.connect() as conn:
        raw = [str(v) for row in conn.execute(select(face_gallery)) for v in row]
    assert not [v for v in raw if any(nik(i) in v for i in range(50))]


def test_gallery_refuses_bad_templates(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    gallery = gallery_for(store.engine, store.keys, DLIB)
    with pytest.raises(InvalidInput, match=r"takes 128 finite numbers .*; got shape \(64,\)"):
        gallery.enrol(Enrolment("c", "n", "face"), np.zeros(64, np.float32))
    bad = np.zeros(128, np.float32)
    bad[3] = np.nan
    with pytest.raises(InvalidInput, match="finite"):
        gallery.search(bad)
    with pytest.raises(InvalidInput, match="needs a NIK"):
        gallery.enrol(Enrolment("c", " ", "face"), vectors(1)[0])


def test_one_gallery_object_per_database(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    other = CaseStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    assert gallery_for(store.engine, store.keys, DLIB) is gallery_for(store.engine, store.keys,
                                                                       DLIB)
    assert gallery_for(store.engine, store.keys, DLIB) is not gallery_for(other.engine,
                                                                           other.keys, DLIB)


def test_sealed_at_rest_and_rehashed_on_key_rotation(tmp_path: Path) -> None:
    db = tmp_path / "cases.sqlite3"
    store = CaseStore(f"sqlite:///{db}")
    gallery = gallery_for(store.engine, store.keys, DLIB)
    v = vectors(1)[0]
    gallery.enrol(Enrolment("case-1", nik(1), "face"), v)
    raw = db.read_bytes() + (tmp_path / "cases.sqlite3-wal").read_bytes()
    assert v.astype("<f4").tobytes()[:16] not in raw  # no clear embedding on disk
    assert nik(1).encode() not in raw
    rotated = generate_ring(store.keys)
    # While both keys are in the ring, the old hash is still found.
    assert [e.case_id for e, _ in FaceGallery(store.engine, rotated, DLIB).templates_of_nik(nik(1))
            ] == ["case-1"]
    assert gallery.reencrypt(rotated) == 1 and gallery.reencrypt(rotated) == 0
    only_new = type(rotated)({rotated.active_id: rotated.keys[rotated.active_id]},
                             rotated.active_id)
    reread = FaceGallery(create_engine(f"sqlite:///{db}"), only_new, DLIB)
    [found] = reread.search(v, 1)
    assert found.enrolment.nik.startswith(f"{only_new.active_id}:")
    assert reread.same_nik(found.enrolment.nik, nik(1))
    assert [e.case_id for e, _ in reread.templates_of_nik(nik(1))] == ["case-1"]
    # A sealed embedding copied onto another case does not open.
    with store.engine.connect() as conn:
        sealed = conn.scalar(select(face_gallery.c.embedding))
    assert reread._open(sealed, "case-1", "face").tolist() == pytest.approx(v.tolist())
    with pytest.raises(EvidenceKeyError):
        reread._open(sealed, "case-2", "face")
