"""What both galleries do with their rows: delete them, follow other processes' writes,
re-seal them under a new key."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import ColumnElement, Table, delete, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from verifier.cases.crypto import KeyRing, sealed_key_id
from lebong_contract.errors import StoreUnavailable
from verifier.galleries.nik import NikHasher
from verifier.galleries.schema import context, gallery_deletions


log = logging.getLogger(__name__)


@contextmanager
def gallery_write(table: Table) -> Iterator[None]:
    """A database failure while enrolling becomes StoreUnavailable (the caller decides what
    an unsearchable case means) instead of escaping as a driver error."""
    try:
        yield
    except SQLAlchemyError as exc:
        log.error("gallery %s could not commit: %s", table.name, exc)
        raise StoreUnavailable(f"the {table.name} table could not commit",
                               metadata={"error": type(exc).__name__}) from None


def delete_rows(db: Connection, table: Table, where: ColumnElement[bool]) -> int:
    """Delete `table`'s rows matching `where` and, in the same transaction, count the deletion
    in `gallery_deletions`, which tells every process's `RowFollower` that rows it holds may
    be gone. Returns how many rows were deleted."""
    removed = int(db.execute(delete(table).where(where)).rowcount or 0)
    if removed:
        db.execute(gallery_deletions.update()
                   .where(gallery_deletions.c.table_name == table.name)
                   .values(deletions=gallery_deletions.c.deletions + 1))
    return removed


class RowFollower:
    """Which of a gallery table's rows changed since this process last looked, without
    reading the whole table at every search (at 100,000 cases the fingerprint table holds a
    million rows, 2.7 GB).

    Rows are never updated in place except by re-sealing, which does not change what they
    hold, and an id is never given to a second row (sequences on PostgreSQL, AUTOINCREMENT
    on SQLite: migration 0006), so ids tell everything:
    - Deleted rows: every delete goes through `delete_rows`, which bumps the table's counter
      in `gallery_deletions`. While the counter is unchanged no held row can be gone; when it
      changed, every held id is checked once.
    - New rows have ids above the highest one held, except rows whose transaction took its id
      before another's and committed after it. On SQLite one writer at a time commits, in id
      order, so that cannot happen. On PostgreSQL it can, but only while that transaction is
      open: ids up to the highest one held `settle_s` ago are final, and only the ids above
      them are counted again (count and sum against the ids held) at each look.
    """

    def __init__(self, table: Table, late_commits: bool, settle_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.table = table
        self.late_commits = late_commits
        self.settle_s = settle_s
        self._clock = clock
        self._deletions: int | None = None
        self._marks: deque[tuple[float, int]] = deque()  # (when, highest id held then)
        self._final = 0  # ids up to this one can no longer appear

    def changes(self, db: Connection, held: np.ndarray
                ) -> tuple[np.ndarray, ColumnElement[bool]]:
        """(ids in `held` that are gone from the table, a condition selecting the rows to
        load). Call `looked` with the ids held after loading them."""
        t = self.table
        # Read before the rows: a delete committed in between shows at the next look.
        deletions = db.scalar(select(gallery_deletions.c.deletions)
                              .where(gallery_deletions.c.table_name == t.name))
        last = int(held.max()) if held.size else 0
        low = 0 if deletions is None or deletions != self._deletions else self._final
        self._deletions = None if deletions is None else int(deletions)
        newer = t.c.id > last
        if low >= last:
            return np.empty(0, dtype=np.int64), newer
        window = (t.c.id > low) & (t.c.id <= last)
        in_window = held[held > low]
        count, total = db.execute(select(func.count(), func.coalesce(func.sum(t.c.id), 0))
                                  .where(window)).one()
        if int(count) == in_window.size and int(total) == int(in_window.sum()):
            return np.empty(0, dtype=np.int64), newer
        ids = np.array(db.scalars(select(t.c.id).where(window)).all(), dtype=np.int64)
        late = np.setdiff1d(ids, in_window)
        return (np.setdiff1d(in_window, ids),
                or_(newer, t.c.id.in_(late.tolist())) if late.size else newer)

    def looked(self, held: np.ndarray) -> None:
        """Record the highest id held after a look: final at once on SQLite, `settle_s`
        later where transactions may commit out of id order."""
        last = int(held.max()) if held.size else 0
        if not self.late_commits:
            self._final = last
            return
        now = self._clock()
        self._marks.append((now, last))
        while self._marks and self._marks[0][0] <= now - self.settle_s:
            self._final = max(self._final, self._marks.popleft()[1])


def follower_for(engine: Engine, table: Table) -> RowFollower:
    # SQLite: one writer at a time, so rows commit in id order.
    return RowFollower(table, late_commits=engine.dialect.name != "sqlite")


def reseal_rows(engine: Engine, table: Table, slot: str, sealed: tuple[str, ...],
                new_keys: KeyRing) -> int:
    """Re-seal the `sealed` columns of every row not sealed with `new_keys`' active key, and
    re-hash its NIK under that key (the old keys must still be in `new_keys`). Returns how
    many rows changed."""
    hasher = NikHasher(new_keys)
    active = new_keys.active_id
    changed = 0
    with engine.begin() as db:
        rows = db.execute(select(table.c.id, table.c.case_id, table.c[slot], table.c.nik_hash,
                                 *(table.c[c] for c in sealed))).all()
        for r in rows:
            values: dict[str, object] = {}
            for column in sealed:
                blob = getattr(r, column)
                if sealed_key_id(blob) != active:
                    ctx = context(table.name, column, r.case_id, getattr(r, slot))
                    values[column] = new_keys.seal(new_keys.open(blob, ctx), ctx)
            if not r.nik_hash.startswith(f"{active}:"):
                nik = new_keys.open(r.nik, context(table.name, "nik", r.case_id,
                                                   getattr(r, slot)))
                values["nik_hash"] = hasher.hash(nik.decode())
            if values:
                db.execute(table.update().where(table.c.id == r.id).values(**values))
                changed += 1
    return changed
