"""How a gallery follows other processes' writes (`RowFollower`): while nothing was deleted it
reads only rows above the ids it holds (not every id: a million rows at 100,000 cases), a
delete anywhere makes it check every held id once, and on PostgreSQL a row whose transaction
committed after a later one's is still found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Connection, Engine

from verifier.cases import migrate
from verifier.galleries.rows import RowFollower, delete_rows
from verifier.galleries.schema import face_gallery


@pytest.fixture
def engine(case_db_url: str) -> Iterator[Engine]:
    engine = create_engine(case_db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def insert(db: Connection, case_id: str) -> int:
    return int(db.execute(face_gallery.insert().values(
        case_id=case_id, label="face", nik_hash="k:00", nik=b"sealed", embedding=b"sealed",
        embedder="model@000000000000",
        enrolled_at=datetime.now(timezone.utc))).inserted_primary_key[0])


class Follower:
    """A RowFollower with the ids it holds, as a gallery keeps them, and the SQL it ran."""

    def __init__(self, engine: Engine, late_commits: bool, settle_s: float = 300.0) -> None:
        self.now = 0.0
        self.engine = engine
        self.rows = RowFollower(face_gallery, late_commits, settle_s, clock=lambda: self.now)
        self.held = np.empty(0, dtype=np.int64)
        self.sql: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: self.sql.append(statement))

    def look(self) -> None:
        self.sql.clear()
        with self.engine.connect() as db:
            gone, to_load = self.rows.changes(db, self.held)
            new = db.scalars(select(face_gallery.c.id).where(to_load)).all()
        self.held = np.union1d(np.setdiff1d(self.held, gone), np.array(new, dtype=np.int64))
        self.rows.looked(self.held)

    def counted(self) -> bool:
        return any("count(" in s.lower() for s in self.sql)


def test_nothing_deleted_reads_only_newer_rows_and_a_delete_is_seen(engine: Engine) -> None:
    with engine.begin() as db:
        ids = [insert(db, f"case-{i}") for i in range(5)]
    follower = Follower(engine, late_commits=False)
    follower.look()
    assert follower.held.tolist() == ids
    with engine.begin() as db:
        ids.append(insert(db, "case-5"))
    follower.look()
    assert follower.held.tolist() == ids and not follower.counted()

    other = create_engine(engine.url)  # another process removes a case
    with other.begin() as db:
        assert delete_rows(db, face_gallery, face_gallery.c.case_id == "case-2") == 1
        assert delete_rows(db, face_gallery, face_gallery.c.case_id == "nobody") == 0
    other.dispose()
    follower.look()
    assert follower.held.tolist() == [i for i in ids if i != ids[2]] and follower.counted()
    follower.look()  # the deletion was taken in: back to reading newer rows only
    assert not follower.counted()


def test_a_delete_outside_delete_rows_goes_unseen(engine: Engine) -> None:
    """Why every delete must go through `delete_rows`: the twin of the test above."""
    with engine.begin() as db:
        first = insert(db, "case-0")
        insert(db, "case-1")
    follower = Follower(engine, late_commits=False)
    follower.look()
    with engine.begin() as db:
        db.execute(face_gallery.delete().where(face_gallery.c.id == first))
    follower.look()
    assert first in follower.held.tolist()


def test_the_newest_case_enrolled_again_is_seen(engine: Engine) -> None:
    """A re-enrolment deletes the case's rows and inserts new ones: the new row must not take
    the deleted newest row's id (SQLite did, before migration 0006), or a follower holding
    that id keeps the stale template."""
    with engine.begin() as db:
        ids = [insert(db, f"case-{i}") for i in range(3)]
    follower = Follower(engine, late_commits=False)
    follower.look()
    with engine.begin() as db:
        delete_rows(db, face_gallery, face_gallery.c.case_id == "case-2")
        again = insert(db, "case-2")
    assert again not in ids
    follower.look()
    assert follower.held.tolist() == ids[:2] + [again]


def test_before_migration_0006_sqlite_reused_the_newest_id(tmp_path: Path) -> None:
    """The twin: what the test above guards against, on the schema before 0006; and the
    migration keeps every row and index."""
    engine = create_engine(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    with engine.begin() as db:
        ids = [insert(db, f"case-{i}") for i in range(3)]
        delete_rows(db, face_gallery, face_gallery.c.case_id == "case-2")
        assert insert(db, "case-2") == ids[2]  # reused
    migrate.upgrade(engine)
    with engine.begin() as db:
        assert db.scalars(select(face_gallery.c.id)).all() == ids
        delete_rows(db, face_gallery, face_gallery.c.case_id == "case-2")
        assert insert(db, "case-2") == ids[2] + 1
    assert {i["name"] for i in inspect(engine).get_indexes("face_gallery")} >= {
        "ix_face_gallery_embedder_id", "ix_face_gallery_case_id", "ix_face_gallery_nik_hash"}
    engine.dispose()


@pytest.mark.parametrize("late_commits", [True, False])
def test_a_row_committed_late_is_found_on_postgresql(case_db_url: str, late_commits: bool
                                                      ) -> None:
    if not case_db_url.startswith("postgresql"):
        pytest.skip("SQLite commits one writer at a time, in id order")
    engine = create_engine(case_db_url)
    migrate.upgrade(engine)
    follower = Follower(engine, late_commits=late_commits, settle_s=60.0)
    with engine.connect() as slow:
        transaction = slow.begin()
        early = insert(slow, "slow")  # takes its id first ...
        with engine.begin() as db:
            later = insert(db, "fast")  # ... a later id commits before it
        follower.look()
        assert follower.held.tolist() == [later]
        transaction.commit()
    follower.look()
    if not late_commits:  # what SQLite's reasoning would miss on PostgreSQL
        assert follower.held.tolist() == [later]
        return
    assert follower.held.tolist() == [early, later] and follower.counted()

    # Once the ids held settle_s ago are final, only ids above them are counted.
    follower.now += 61.0
    follower.look()
    follower.look()
    assert not follower.counted()
    engine.dispose()
