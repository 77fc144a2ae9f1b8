"""The face gallery keeps each embedder's rows apart: a gallery opened for one model finds,
lists and counts only the faces that model embedded, checks vectors against that model's
dimension, and says at load how many earlier faces another model made (unsearchable until
they are enrolled again)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event

from tests.test_galleries_face import DLIB, nik, registry_identity, vectors
from verifier.cases.crypto import generate_ring
from verifier.cases.store import CaseStore
from lebong_contract.errors import InvalidInput, ModelIntegrityError
from verifier.galleries.face import EmbedderIdentity, FaceGallery, gallery_for
from verifier.gallery import Enrolment

# A second model of another size (FaceNet's 512) and a second file of dlib's size: the
# version matters, not only the dimension.
WIDE = registry_identity("face_facenet_casia", 512)
RETRAINED = EmbedderIdentity(DLIB.name, "f" * 64, DLIB.dimension)


def wide_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(0, 1, (n, 512))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_each_embedder_finds_only_its_own_rows(case_db_url: str) -> None:
    store = CaseStore(case_db_url, generate_ring())
    dlib, wide = (FaceGallery(store.engine, store.keys, e) for e in (DLIB, WIDE))
    retrained = FaceGallery(store.engine, store.keys, RETRAINED)
    small, large = vectors(10), wide_vectors(10)
    for i in range(10):
        dlib.enrol(Enrolment(f"dlib-{i}", nik(i), "face"), small[i])
        wide.enrol(Enrolment(f"wide-{i}", nik(i), "face"), large[i])
    # The same vector under another file of the same size is another model's: kept apart.
    retrained.enrol(Enrolment("retrained-3", nik(3), "face"), small[3])
    assert (len(dlib), len(wide), len(retrained)) == (10, 10, 1)
    assert {c.enrolment.case_id for c in dlib.search(small[3], 20)} == {
        f"dlib-{i}" for i in range(10)}
    assert {c.enrolment.case_id for c in wide.search(large[3], 20)} == {
        f"wide-{i}" for i in range(10)}
    assert [c.enrolment.case_id for c in retrained.search(small[3], 20)] == ["retrained-3"]
    # "Same NIK, different face" compares only vectors of one model.
    assert [e.case_id for e, _ in dlib.templates_of_nik(nik(3))] == ["dlib-3"]
    assert [(e.case_id, v.shape) for e, v in wide.templates_of_nik(nik(3))] == [
        ("wide-3", (512,))]
    # Enrolling a case with the new model replaces its old model's face (one per case and
    # label): the old gallery stops finding it, the new one finds it.
    wide.enrol(Enrolment("dlib-5", nik(5), "face"), large[0] * -1)
    assert "dlib-5" not in {c.enrolment.case_id for c in dlib.search(small[5], 20)}
    assert wide.search(large[0] * -1, 1)[0].enrolment.case_id == "dlib-5"
    assert (len(dlib), len(wide)) == (9, 11)
    # A case's removal (retention) takes its rows of every model.
    retrained.enrol(Enrolment("wide-7", nik(7), "passport"), small[7])
    assert wide.remove_case("wide-7") == 2 and len(retrained) == 1


def test_vectors_are_checked_against_the_embedders_dimension(case_db_url: str) -> None:
    store = CaseStore(case_db_url, generate_ring())
    dlib, wide = (FaceGallery(store.engine, store.keys, e) for e in (DLIB, WIDE))
    [v512] = wide_vectors(1)
    wide.enrol(Enrolment("c-1", nik(1), "face"), v512)
    assert wide.search(v512, 1)[0].enrolment.case_id == "c-1"
    with pytest.raises(InvalidInput, match=r"the face gallery of face_recognition_resnet@"
                       r"55533b28a958 takes 128 finite numbers .*got shape \(512,\)"):
        dlib.enrol(Enrolment("c-2", nik(2), "face"), v512)
    with pytest.raises(InvalidInput, match=r"face_recognition_resnet@55533b28a958 takes 128"):
        dlib.search(v512)
    with pytest.raises(InvalidInput, match=r"face_facenet_casia@704afe26766c takes 512 .*"
                       r"got shape \(128,\)"):
        wide.enrol(Enrolment("c-3", nik(3), "face"), vectors(1)[0])
    assert (len(dlib), len(wide)) == (0, 1)


def test_load_warns_about_faces_another_model_embedded(
        case_db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    store = CaseStore(case_db_url, generate_ring())
    dlib, wide = (FaceGallery(store.engine, store.keys, e) for e in (DLIB, WIDE))
    for i, v in enumerate(vectors(2)):
        dlib.enrol(Enrolment(f"dlib-{i}", nik(i), "face"), v)
    caplog.set_level(logging.WARNING, logger="verifier.galleries.face")
    dlib.load()  # only its own rows: nothing to say
    assert not caplog.records
    for i, v in enumerate(wide_vectors(3)):
        wide.enrol(Enrolment(f"wide-{i}", nik(i + 10), "face"), v)
    FaceGallery(store.engine, store.keys, RETRAINED).enrol(
        Enrolment("retrained-1", nik(20), "face"), vectors(1, seed=5)[0])
    fresh = FaceGallery(store.engine, store.keys, DLIB)  # a restart after the others enrolled
    fresh.load()
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith("face gallery: 4 enrolled faces were embedded by another model "
                              "(face_facenet_casia@704afe26766c: 3, face_recognition_resnet@"
                              "ffffffffffff: 1), not by the configured face_recognition_resnet@"
                              "55533b28a958, and are not searched")
    assert "`verifier galleries rebuild --re-embed`" in message
    assert len(fresh.search(vectors(1)[0], 10)) == 2  # its own rows were loaded


def test_one_gallery_object_per_database_and_embedder(case_db_url: str) -> None:
    store = CaseStore(case_db_url, generate_ring())
    assert gallery_for(store.engine, store.keys, WIDE) is gallery_for(store.engine, store.keys,
                                                                       WIDE)
    assert gallery_for(store.engine, store.keys, WIDE) is not gallery_for(store.engine,
                                                                           store.keys, DLIB)


def test_an_embedder_name_too_long_to_store_is_refused() -> None:
    assert len(EmbedderIdentity("n" * 115, "0" * 64, 8).label) == 128
    with pytest.raises(ModelIntegrityError, match="too long for the face gallery"):
        EmbedderIdentity("n" * 116, "0" * 64, 8)


def test_a_nik_lookup_reads_the_nik_hash_index_not_every_row_of_the_model(tmp_path: Path
                                                                         ) -> None:
    """Finish looks up the applicant's earlier faces by NIK: the query must go through the NIK
    hash's index. With the embedder in the WHERE clause, SQLite's planner walked the
    (embedder, id) index instead: every row of the model, 0.25 s at 100,000 cases."""
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}", generate_ring())
    gallery = FaceGallery(store.engine, store.keys, DLIB)
    for i, vector in enumerate(vectors(5)):
        gallery.enrol(Enrolment(f"case-{i}", nik(i), "face"), vector)
    seen: list[tuple[str, object]] = []
    listen = (lambda conn, cursor, statement, parameters, *rest:
              seen.append((statement, parameters)))
    event.listen(store.engine, "before_cursor_execute", listen)
    assert [e.case_id for e, _ in gallery.templates_of_nik(nik(2))] == ["case-2"]
    event.remove(store.engine, "before_cursor_execute", listen)
    [(statement, parameters)] = [(s, p) for s, p in seen if "nik_hash IN" in s]
    with store.engine.connect() as db:
        plan = " ".join(str(row[-1]) for row in db.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "ix_face_gallery_nik_hash" in plan, plan
