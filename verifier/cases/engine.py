"""The case store's database engine, and what a database failure means to its callers.

SQLite is the embedded default for one machine (WAL, synchronous commits). PostgreSQL is the
record that several verifier replicas share, and a replica must survive the database
restarting or failing over under it:

- connections are pinged when taken from the pool (after a restart every pooled connection
  is dead, and the first statement on one would fail);
- connecting gives up after `[store] connect_timeout_s` and every statement after
  `statement_timeout_ms` (a lock held by a stuck transaction), so a station hears
  UNAVAILABLE and resends instead of waiting on a silent stream;
- `store_call` wraps each store method: a connection lost in the middle is retried once on
  a fresh connection (the methods are idempotent: every write is keyed by (case, sequence)
  or by the case, so a commit that did happen before the connection broke is found as a
  duplicate), and whatever still fails becomes `StoreUnavailable`, which ends the station's
  stream with UNAVAILABLE: it reconnects and resends, nothing is lost.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from verifier.config import StoreConfig
from lebong_contract.errors import StoreUnavailable

log = logging.getLogger(__name__)

# PostgreSQL advisory lock key for schema migrations ("lebong" in ASCII).
_MIGRATION_LOCK_KEY = 0x6C65626F6E67


def make_engine(url: str, settings: StoreConfig) -> Engine:
    """The engine for a store URL, set up for its backend (see the module's docstring)."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + synchronous=FULL: a commit is on disk before we acknowledge it.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            # Deleted pages (purged evidence) are zeroed, not left readable in the file.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args = {"connect_timeout": settings.connect_timeout_s,
                        "options": f"-c statement_timeout={settings.statement_timeout_ms}"}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Held while the schema is migrated: replicas starting together on a new PostgreSQL
    database would each create its tables (and all but one fail); the first to take the lock
    migrates, the others wait and find the schema current. SQLite: one machine, no lock."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        # However long the other replica's migration takes, wait for it.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def connection_lost(exc: SQLAlchemyError) -> bool:
    """The connection broke or could not be made (worth one retry on a fresh one), as opposed
    to a statement the database refused or timed out (the same again would fail again).
    PostgreSQL SQLSTATE: class 08 connection exceptions, 57P01-57P03 the server shutting down
    or starting; None: the driver failed before the server answered."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", "")  # SQLite's errors carry none: never lost
    return state is None or state.startswith("08") or state.startswith("57P")


P = ParamSpec("P")
T = TypeVar("T")


def store_call(method: Callable[P, T]) -> Callable[P, T]:
    """Decorator for an idempotent store method: one retry after a lost connection, then
    any database failure is `StoreUnavailable` (UNAVAILABLE: the caller resends)."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            if not connection_lost(exc):
                raise _unavailable(method.__name__, exc) from None
            log.warning("case store: connection lost in %s (%s); retrying once",
                        method.__name__, _first_line(exc))
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise _unavailable(method.__name__, exc) from None

    return wrapped


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's own first line (no SQL, no parameters)."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def _unavailable(operation: str, exc: SQLAlchemyError) -> StoreUnavailable:
    log.error("case store unavailable in %s: %s: %s", operation, type(exc).__name__,
              _first_line(exc))
    return StoreUnavailable(
        f"the case store's database did not answer ({type(exc).__name__}: "
        f"{_first_line(exc)}); the message is not committed, resend it",
        metadata={"error": type(exc).__name__, "operation": operation})
