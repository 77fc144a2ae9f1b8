"""What both galleries do with their rows: catch up with other processes' writes, re-seal
under a new key, and seal or open a value bound to its row."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from verifier.cases.crypto import KeyRing, sealed_key_id
from verifier.errors import StoreUnavailable
from verifier.galleries.nik import NikHasher
from verifier.galleries.schema import context


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


def changes(db: Connection, table: Table, held: np.ndarray
            ) -> tuple[np.ndarray, ColumnElement[bool]]:
    """(row ids held in memory that are gone from the table, a condition selecting the rows
    to load). Rows are never updated in place except by re-sealing, which does not change
    what they hold, so ids tell everything: new rows have higher ids, except those whose
    transaction committed after a later one's (caught by the count and sum of ids)."""
    last = int(held.max()) if held.size else 0
    count, total = db.execute(select(func.count(), func.coalesce(func.sum(table.c.id), 0))
                              .where(table.c.id <= last)).one()
    newer = table.c.id > last
    if int(count) == held.size and int(total) == int(held.sum()):
        return np.empty(0, dtype=np.int64), newer
    ids = np.array(db.scalars(select(table.c.id).where(table.c.id <= last)).all(),
                   dtype=np.int64)
    late = np.setdiff1d(ids, held)
    return (np.setdiff1d(held, ids),
            or_(newer, table.c.id.in_(late.tolist())) if late.size else newer)


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
