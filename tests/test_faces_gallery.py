"""The face gallery (1:N): exact search against a brute-force reference, persistence in the
case store's database, other processes' enrolments, replacement and removal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, select

from verifier.cases.crypto import EvidenceKeyError, generate_ring
from verifier.cases.store import CaseStore
from verifier.errors import InvalidInput
from verifier.face.gallery import ExactIndex, FaceGallery, face_gallery, gallery_for
from verifier.gallery import Enrolment


def vectors(n: int, seed: int = 0) -> np.ndarray:
    # The spread of dlib embeddings: components ~N(0, 0.09), norms ~1.
    return np.random.default_rng(seed).normal(0, 0.09, (n, 128)).astype(np.float32)


def test_exact_index_agrees_with_brute_force() -> None:
    data = vectors(5000)
    index = ExactIndex()
    index.add(data[:3000])
    index.add(data[3000:])
    probes = vectors(20, seed=1)
    for p in probes:
        rows, dist = index.search(p, 7)
        truth = np.linalg.norm(data.astype(np.float64) - p, axis=1)
        assert list(rows) == list(np.argsort(truth, kind="stable")[:7])
        assert np.allclose(dist, truth[rows], atol=1e-4)
    index.keep(np.arange(5000) % 2 == 0)
    assert len(index) == 2500
    rows, _ = index.search(data[10], 1)
    assert rows[0] == 5  # row 10 became row 5
    assert len(ExactIndex().search(data[0], 5)[0]) == 0


def test_gallery_persists_catches_up_and_removes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    data = vectors(50)
    keys = generate_ring()
    writer = FaceGallery(create_engine(url), keys)  # e.g. the review page enrolling approvals
    reader = FaceGallery(create_engine(url), keys)  # the verifier's sessions
    assert reader.search(data[0]) == []
    for i, v in enumerate(data):
        writer.enrol(Enrolment(f"case-{i}", f"17070100000000{i:02d}", "face"), v)
    top = reader.search(data[7] + 0.001, top_k=3)
    assert top[0].enrolment == Enrolment("case-7", "1707010000000007", "face")
    assert top[0].score > 0.98 > top[1].score >= top[2].score  # 0.001 x 128 dims: d=0.011
    # Re-enrolling a case replaces its face; removal drops it, seen by the other object.
    writer.enrol(Enrolment("case-7", "1707010000000007", "face"), data[8])
    assert len(writer) == 50
    assert {c.enrolment.case_id for c in reader.search(data[8], 2)} == {"case-7", "case-8"}
    assert writer.remove_case("case-8") == 1 and writer.remove_case("case-8") == 0
    assert [c.enrolment.case_id for c in reader.search(data[8], 1)] == ["case-7"]
    # A fresh process sees the same gallery from the database.
    fresh = FaceGallery(create_engine(url), keys)
    assert len(fresh) == 49 and fresh.search(data[3], 1)[0].enrolment.case_id == "case-3"
    same_nik = fresh.templates_of_nik("1707010000000007")
    assert [e.case_id for e, _ in same_nik] == ["case-7"]
    assert np.allclose(same_nik[0][1], data[8])


def test_gallery_refuses_bad_templates(tmp_path: Path) -> None:
    gallery = gallery_for(CaseStore(f"sqlite:///{tmp_path / 'g.sqlite3'}"))
    with pytest.raises(InvalidInput, match=r"128 finite numbers; got shape \(64,\)"):
        gallery.enrol(Enrolment("c", "n", "face"), np.zeros(64, np.float32))
    bad = np.zeros(128, np.float32)
    bad[3] = np.nan
    with pytest.raises(InvalidInput, match="finite"):
        gallery.search(bad)


def test_one_gallery_object_per_store(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    assert gallery_for(store) is gallery_for(store)
    assert gallery_for(store) is not gallery_for(CaseStore(f"sqlite:///{tmp_path / 'h.sqlite3'}"))


def test_embeddings_are_sealed_at_rest_and_follow_key_rotation(tmp_path: Path) -> None:
    db = tmp_path / "cases.sqlite3"
    store = CaseStore(f"sqlite:///{db}")
    gallery = gallery_for(store)
    v = vectors(1)[0]
    gallery.enrol(Enrolment("case-1", "1707010000000001", "face"), v)
    raw = db.read_bytes() + (tmp_path / "cases.sqlite3-wal").read_bytes()
    assert v.astype("<f4").tobytes()[:16] not in raw  # no clear embedding on disk
    rotated = generate_ring(store.keys)
    assert gallery.reencrypt(rotated) == 1 and gallery.reencrypt(rotated) == 0
    reread = FaceGallery(create_engine(f"sqlite:///{db}"), rotated)
    assert reread.search(v, 1)[0].enrolment.case_id == "case-1"
    # A sealed embedding copied onto another case does not open.
    with create_engine(f"sqlite:///{db}").connect() as conn:
        sealed = conn.scalar(select(face_gallery.c.embedding))
    assert reread._open(sealed, "case-1", "face").tolist() == pytest.approx(v.tolist())
    with pytest.raises(EvidenceKeyError):
        reread._open(sealed, "case-2", "face")
