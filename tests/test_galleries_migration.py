"""The gallery tables come from Alembic migrations 0002, 0004 and 0005: on an empty database,
on one whose face_gallery was made by an earlier build's create_all (NIKs in clear: dropped and
made anew), and on one with faces enrolled before rows named their embedder (dlib's ResNet
made them all). `verifier retention purge` removes purged cases' gallery entries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tests.test_cases_audit import cli, config_file, store_for
from tests.test_galleries_face import DLIB
from tests.test_galleries_face_embedder import WIDE
from verifier.cases import migrate
from verifier.cases.crypto import generate_ring
from verifier.cases.store import CaseStore
from verifier.galleries.face import FaceGallery
from verifier.galleries.nik import NikHasher
from verifier.galleries.schema import context
from verifier.gallery import Enrolment


def gallery_columns(url: str) -> dict[str, set[str]]:
    found = inspect(create_engine(url))
    return {t: {c["name"] for c in found.get_columns(t)}
            for t in ("face_gallery", "fingerprint_gallery") if found.has_table(t)}


def test_empty_database_gets_both_tables(case_db_url: str) -> None:
    engine = create_engine(case_db_url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    columns = gallery_columns(case_db_url)
    with engine.connect() as conn:  # every delete is counted from the start
        assert dict(conn.execute(text("SELECT table_name, deletions FROM gallery_deletions"))
                    .all()) == {"face_gallery": 0, "fingerprint_gallery": 0}
    assert "nik_hash" in columns["face_gallery"] and "nik_hash" in columns["fingerprint_gallery"]
    assert "index_vector" in columns["fingerprint_gallery"]
    assert "embedder" in columns["face_gallery"]


def upgrade_to(engine: Engine, revision: str, down: bool = False) -> None:
    cfg = migrate._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_faces_enrolled_before_0005_are_tagged_as_dlibs(case_db_url: str) -> None:
    engine = create_engine(case_db_url)
    upgrade_to(engine, "0004")
    keys = generate_ring()
    vector = np.linspace(-0.2, 0.2, 128, dtype=np.float32)
    with engine.begin() as conn:  # a row as the gallery wrote it at revision 0004
        conn.execute(text("INSERT INTO face_gallery (case_id, label, nik_hash, nik, embedding, "
                          "enrolled_at) VALUES ('old', 'face', :h, :n, :e, :t)"), {
            "h": NikHasher(keys).hash("1707010101900001"),
            "n": keys.seal(b"1707010101900001", context("face_gallery", "nik", "old", "face")),
            "e": keys.seal(vector.astype("<f4").tobytes(),
                           context("face_gallery", "embedding", "old", "face")),
            "t": "2026-01-01 00:00:00"})
    store = CaseStore(case_db_url, keys)  # opening the store migrates
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    with store.engine.connect() as conn:
        assert conn.scalar(text("SELECT embedder FROM face_gallery")) == DLIB.label
    # The registry's dlib model finds it; another model's gallery does not.
    [found] = FaceGallery(store.engine, keys, DLIB).search(vector, 5)
    assert found.enrolment.case_id == "old"
    assert FaceGallery(store.engine, keys, WIDE).search(np.ones(512, np.float32), 5) == []
    # The default only tagged the old rows: a row that names no embedder is refused.
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text("INSERT INTO face_gallery (case_id, label, nik_hash, nik, embedding, "
                          "enrolled_at) VALUES ('new', 'face', 'h', :b, :b, :t)"),
                     {"b": b"x", "t": "2026-01-02 00:00:00"})
    # Going back to 0004 keeps dlib's rows only: without the tag another model's would pass
    # for dlib's.
    FaceGallery(store.engine, keys, WIDE).enrol(Enrolment("wide", "1707010101900002", "face"),
                                                 np.ones(512, np.float32) / 23)
    store.engine.dispose()
    upgrade_to(engine, "0004", down=True)
    assert "embedder" not in gallery_columns(case_db_url)["face_gallery"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT case_id FROM face_gallery")).scalars().all() == ["old"]


def test_old_create_all_face_gallery_is_replaced(case_db_url: str) -> None:
    engine = create_engine(case_db_url)
    cfg = migrate._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:  # what FaceGallery's create_all made in the earlier build
        conn.execute(text("CREATE TABLE face_gallery (id INTEGER PRIMARY KEY, "
                          "case_id VARCHAR(64) NOT NULL, label VARCHAR(32) NOT NULL, "
                          "nik VARCHAR(32) NOT NULL, embedding BYTEA NOT NULL, "
                          "enrolled_at TIMESTAMP NOT NULL, UNIQUE (case_id, label))"
                          .replace("BYTEA", "BLOB" if engine.dialect.name == "sqlite"
                                   else "BYTEA")))
        conn.execute(text("CREATE INDEX ix_face_gallery_nik ON face_gallery (nik)"))
        conn.execute(text("INSERT INTO face_gallery (id, case_id, label, nik, embedding, "
                          "enrolled_at) VALUES (1, 'c', 'face', '1707010101900001', :e, "
                          "'2026-01-01 00:00:00')"), {"e": b"LVE1 sealed"})
    store = CaseStore(case_db_url, generate_ring())  # opening the store migrates
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert "nik_hash" in gallery_columns(case_db_url)["face_gallery"]
    with store.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM face_gallery")) == 0
    gallery = FaceGallery(store.engine, store.keys, DLIB)
    gallery.enrol(Enrolment("c", "1707010101900001", "face"), np.ones(128, np.float32) / 12)
    assert [e.case_id for e, _ in gallery.templates_of_nik("1707010101900001")] == ["c"]


def test_retention_purge_removes_gallery_entries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    config = config_file(tmp_path)
    store = store_for(url, config)
    case, _ = store.start_session("s", 1, "loket-1", "p", {"nik": "1707010101900001"})
    gallery = FaceGallery(store.engine, store.keys, DLIB)
    gallery.enrol(Enrolment(case.case_id, "1707010101900001", "face"),
                  np.ones(128, np.float32) / 12)
    gallery.enrol(Enrolment("not-a-stored-case", "1707010101900002", "face"),
                  np.ones(128, np.float32) / 11)
    out = tmp_path / "r.json"
    assert cli("--config", str(config), "retention", "purge", "--db", url,
               "--older-than-days", "0", "--dry-run", "--json", str(out))[0] == 0
    assert json.loads(out.read_text())["gallery_faces_removed"] == 1 and len(gallery) == 2
    code, err = cli("--config", str(config), "retention", "purge", "--db", url,
                    "--older-than-days", "0", "--json", str(out))
    assert code == 0 and "1 gallery faces, 0 gallery fingers" in err
    report = json.loads(out.read_text())
    assert (report["gallery_faces_removed"], report["gallery_fingers_removed"]) == (1, 0)
    assert [c.enrolment.case_id for c in gallery.search(np.ones(128, np.float32) / 12, 5)
            ] == ["not-a-stored-case"]
