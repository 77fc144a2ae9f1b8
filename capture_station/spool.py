"""SQLite spool: every station message is on disk before it is sent and leaves only when acked.

That single rule is what makes the session crash-safe: after a network cut, a verifier restart
or a station restart, whatever is still in `outbox` is exactly what must be resent, in sequence
order, and the verifier ignores the duplicates it had already committed.

Sequences are assigned here, inside the same transaction that stores the message, so no number
is ever used twice or skipped (a refused, oversized message consumes no number).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capture_station.errors import MessageTooLarge, SpoolError
from lebong_contract.api.v1 import capture_pb2

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 20 * 1024 * 1024

SESSION_OPEN = "open"
SESSION_DONE = "done"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    client_session_id  TEXT PRIMARY KEY,
    verifier_address   TEXT NOT NULL,
    station_id         TEXT NOT NULL DEFAULT '',
    officer_id         TEXT NOT NULL DEFAULT '',
    created_unix_ms    INTEGER NOT NULL,
    state              TEXT NOT NULL,
    next_sequence      INTEGER NOT NULL DEFAULT 1,
    -- Kept after Finish is acked: a verdict lost with the stream is fetched by resending Finish.
    finish_sequence    INTEGER,
    verdict_json       TEXT,
    finished_unix_ms   INTEGER
);
CREATE TABLE IF NOT EXISTS outbox (
    client_session_id  TEXT NOT NULL REFERENCES sessions(client_session_id),
    sequence           INTEGER NOT NULL,
    kind               TEXT NOT NULL,
    message            BLOB NOT NULL,
    created_unix_ms    INTEGER NOT NULL,
    PRIMARY KEY (client_session_id, sequence)
);
"""


@dataclass(frozen=True)
class SpooledSession:
    """One session row."""

    client_session_id: str
    verifier_address: str
    station_id: str
    officer_id: str
    created_unix_ms: int
    state: str
    next_sequence: int
    finish_sequence: int | None
    verdict: dict[str, Any] | None


MessageOrBuilder = capture_pb2.StationMessage | Callable[[int], capture_pb2.StationMessage]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Spool:
    """The station's durable outbox. One instance per process; not shared across threads."""

    def __init__(self, path: str | Path,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.path = Path(path)
        self.max_message_bytes = max_message_bytes
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so each append is one
            # explicit transaction.
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a message acknowledged by nobody yet must survive a power cut at the counter.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SpoolError(f"cannot open spool {str(self.path)!r}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so reading next_sequence and bumping it
        # cannot interleave with another writer (a second station process on the same file).
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Sessions ---------------------------------------------------------------------------------

    def create_session(self, client_session_id: str, verifier_address: str, *,
                       station_id: str = "", officer_id: str = "",
                       start: MessageOrBuilder | None = None) -> capture_pb2.StationMessage | None:
        """Record a new session; with `start`, spool it as sequence 1 in the same transaction,
        so a crash can never leave a session whose first message is missing."""
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO sessions (client_session_id, verifier_address, station_id,"
                    " officer_id, created_unix_ms, state) VALUES (?, ?, ?, ?, ?, ?)",
                    (client_session_id, verifier_address, station_id, officer_id, _now_ms(),
                     SESSION_OPEN))
            except sqlite3.IntegrityError as exc:
                raise SpoolError(f"session {client_session_id} already exists") from exc
            return None if start is None else self._append_in(db, client_session_id, start)

    def session(self, client_session_id: str) -> SpooledSession:
        row = self._db.execute(
            "SELECT client_session_id, verifier_address, station_id, officer_id,"
            " created_unix_ms, state, next_sequence, finish_sequence, verdict_json"
            " FROM sessions WHERE client_session_id = ?", (client_session_id,)).fetchone()
        if row is None:
            raise SpoolError(f"session {client_session_id} is not in spool {str(self.path)!r}")
        return _session_from_row(row)

    def open_sessions(self) -> list[SpooledSession]:
        """Sessions without a verdict yet, oldest first: what `capture-station resume` finishes."""
        rows = self._db.execute(
            "SELECT client_session_id, verifier_address, station_id, officer_id,"
            " created_unix_ms, state, next_sequence, finish_sequence, verdict_json"
            " FROM sessions WHERE state = ? ORDER BY created_unix_ms, rowid",
            (SESSION_OPEN,)).fetchall()
        return [_session_from_row(row) for row in rows]

    def record_verdict(self, client_session_id: str, verdict: dict[str, Any]) -> None:
        """Close the session with its verdict. Nothing unacknowledged is deleted: the verifier
        refuses a verdict over a gap, so anything still in the outbox was never committed
        there and stays here for an operator (`pending_count`)."""
        with self._transaction() as db:
            left = db.execute("SELECT COUNT(*) FROM outbox WHERE client_session_id = ?",
                              (client_session_id,)).fetchone()[0]
            if left:
                log.warning("session %s has its verdict with %d unacknowledged messages kept "
                            "in the spool", client_session_id, left)
            db.execute(
                "UPDATE sessions SET state = ?, verdict_json = ?, finished_unix_ms = ?"
                " WHERE client_session_id = ?",
                (SESSION_DONE, json.dumps(verdict, sort_keys=True), _now_ms(),
                 client_session_id))

    # Outbox -----------------------------------------------------------------------------------

    def append(self, client_session_id: str,
               message: MessageOrBuilder) -> capture_pb2.StationMessage:
        """Assign the session's next sequence, store the message, and return it as stored.

        `message` is a StationMessage (its session id and sequence are overwritten) or a
        function from the sequence to one. Raises `MessageTooLarge` (nothing stored, no
        sequence used) when the serialized message is over `max_message_bytes`.
        """
        with self._transaction() as db:
            return self._append_in(db, client_session_id, message)

    def _append_in(self, db: sqlite3.Connection, client_session_id: str,
                   message: MessageOrBuilder) -> capture_pb2.StationMessage:
        row = db.execute(
            "SELECT next_sequence, state FROM sessions WHERE client_session_id = ?",
            (client_session_id,)).fetchone()
        if row is None:
            raise SpoolError(f"session {client_session_id} is not in the spool")
        sequence, state = int(row[0]), row[1]
        if state != SESSION_OPEN:
            raise SpoolError(f"session {client_session_id} already has a verdict")
        if callable(message):
            built = message(sequence)
        else:
            built = capture_pb2.StationMessage()
            built.CopyFrom(message)
        built.client_session_id = client_session_id
        built.sequence = sequence
        kind = built.WhichOneof("payload") or "empty"
        data = built.SerializeToString()
        if len(data) > self.max_message_bytes:
            raise MessageTooLarge(kind, len(data), self.max_message_bytes)
        db.execute(
            "INSERT INTO outbox (client_session_id, sequence, kind, message,"
            " created_unix_ms) VALUES (?, ?, ?, ?, ?)",
            (client_session_id, sequence, kind, data, _now_ms()))
        db.execute(
            "UPDATE sessions SET next_sequence = ?"
            + (", finish_sequence = ?" if kind == "finish" else "")
            + " WHERE client_session_id = ?",
            (sequence + 1, sequence, client_session_id) if kind == "finish"
            else (sequence + 1, client_session_id))
        return built

    def unacked(self, client_session_id: str) -> list[capture_pb2.StationMessage]:
        """Every message of the session not yet acknowledged, in sequence order."""
        rows = self._db.execute(
            "SELECT message FROM outbox WHERE client_session_id = ? ORDER BY sequence",
            (client_session_id,)).fetchall()
        return [capture_pb2.StationMessage.FromString(row[0]) for row in rows]

    def ack(self, client_session_id: str, sequence: int) -> bool:
        """Forget an acknowledged message. False when it was not pending (a repeated ack)."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM outbox WHERE client_session_id = ? AND sequence = ?",
                (client_session_id, sequence))
        return cursor.rowcount > 0

    def pending_count(self, client_session_id: str | None = None) -> int:
        """Unacknowledged messages of one session, or of all sessions."""
        if client_session_id is None:
            row = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE client_session_id = ?",
                (client_session_id,)).fetchone()
        return int(row[0])


def _session_from_row(row: tuple[Any, ...]) -> SpooledSession:
    return SpooledSession(
        client_session_id=row[0], verifier_address=row[1], station_id=row[2],
        officer_id=row[3], created_unix_ms=int(row[4]), state=row[5],
        next_sequence=int(row[6]), finish_sequence=None if row[7] is None else int(row[7]),
        verdict=None if row[8] is None else json.loads(row[8]))
