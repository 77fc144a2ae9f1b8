"""Case store over SQLAlchemy (SQLite by default).

Every write is one transaction; callers acknowledge a station message only after the call
that records it has returned. Methods are synchronous and thread-safe (one connection per
thread; SQLite serialises writers with its busy timeout); the server calls them from its
worker threads.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from verifier.cases.schema import Base, CaseRow, MessageRow
from verifier.consistency.verdict import Verdict
from verifier.errors import SessionStateError


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class CaseRef:
    case_id: str
    client_session_id: str
    finished: bool


@dataclass(frozen=True)
class StoredMessage:
    sequence: int
    kind: str
    subtype: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    has_payload: bool


@dataclass(frozen=True)
class CaseContents:
    case_id: str
    application: dict[str, Any]
    capture_sequence: int | None
    messages: tuple[StoredMessage, ...]


class CaseStore:
    def __init__(self, url: str) -> None:
        connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self.engine = create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                # WAL + synchronous=FULL: a commit is on disk before we acknowledge it.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # -- sessions -----------------------------------------------------------------------

    def start_session(self, client_session_id: str, sequence: int, station_id: str,
                      officer_id: str, application: dict[str, Any]) -> tuple[CaseRef, bool]:
        """Create the case for a session; returns (case, duplicate). A resent start is a
        duplicate and changes nothing."""
        existing = self.find_case(client_session_id)
        if existing is not None:
            return existing, True
        case_id = str(uuid.uuid4())
        now = _now()
        try:
            with self._sessions.begin() as db:
                db.add(CaseRow(id=case_id, client_session_id=client_session_id,
                               station_id=station_id, officer_id=officer_id,
                               application_json=json.dumps(application, sort_keys=True),
                               started_at=now))
                db.flush()
                db.add(MessageRow(case_id=case_id, sequence=sequence, kind="start",
                                  received_at=now, payload_bytes=0))
        except IntegrityError:
            found = self.find_case(client_session_id)
            assert found is not None
            return found, True
        return CaseRef(case_id, client_session_id, False), False

    def find_case(self, client_session_id: str) -> CaseRef | None:
        with self._sessions() as db:
            row = db.scalar(select(CaseRow).where(CaseRow.client_session_id == client_session_id))
            if row is None:
                return None
            return CaseRef(row.id, row.client_session_id, row.finished_at is not None)

    # -- messages -----------------------------------------------------------------------

    def has_message(self, case_id: str, sequence: int) -> bool:
        with self._sessions() as db:
            return db.scalar(select(func.count()).select_from(MessageRow).where(
                MessageRow.case_id == case_id, MessageRow.sequence == sequence)) > 0

    def record_message(self, case_id: str, sequence: int, kind: str, *, data: bytes,
                       keep_payload: bool, subtype: str | None = None,
                       result: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
                       accept_capture: bool = False) -> tuple[bool, bool]:
        """Commit one message with its result or error. Returns (duplicate, capture_accepted):
        capture_accepted is True when this frame became the session's photo."""
        accepted = False
        try:
            with self._sessions.begin() as db:
                case = db.get(CaseRow, case_id)
                if case is None:
                    raise SessionStateError(f"case {case_id} does not exist")
                if case.finished_at is not None:
                    raise SessionStateError("session already finished; start a new session",
                                            metadata={"case_id": case_id})
                if accept_capture and case.capture_sequence is None:
                    case.capture_sequence = sequence
                    accepted = True
                db.add(MessageRow(
                    case_id=case_id, sequence=sequence, kind=kind, received_at=_now(),
                    payload_sha256=hashlib.sha256(data).hexdigest() if data else None,
                    payload_bytes=len(data),
                    payload=data if (keep_payload or accepted) else None, subtype=subtype,
                    result_json=json.dumps(result) if result is not None else None,
                    error_json=json.dumps(error) if error is not None else None))
        except IntegrityError:
            return True, False
        return False, accepted

    def contents(self, case_id: str) -> CaseContents:
        with self._sessions() as db:
            case = db.get(CaseRow, case_id)
            if case is None:
                raise SessionStateError(f"case {case_id} does not exist")
            rows = db.scalars(select(MessageRow).where(MessageRow.case_id == case_id)
                              .order_by(MessageRow.sequence)).all()
            return CaseContents(
                case_id=case_id, application=json.loads(case.application_json),
                capture_sequence=case.capture_sequence,
                messages=tuple(StoredMessage(
                    sequence=r.sequence, kind=r.kind, subtype=r.subtype,
                    result=json.loads(r.result_json) if r.result_json else None,
                    error=json.loads(r.error_json) if r.error_json else None,
                    has_payload=r.payload is not None) for r in rows))

    def payload(self, case_id: str, sequence: int) -> bytes | None:
        with self._sessions() as db:
            return db.scalar(select(MessageRow.payload).where(
                MessageRow.case_id == case_id, MessageRow.sequence == sequence))

    # -- verdicts -----------------------------------------------------------------------

    def finish(self, case_id: str, sequence: int, verdict: Verdict) -> tuple[Verdict, bool]:
        """Store the verdict and the finish message; returns (stored verdict, duplicate).
        A case is finished once: a second finish returns the verdict stored the first time."""
        stored = self.verdict(case_id)
        if stored is not None:
            return stored, True
        try:
            with self._sessions.begin() as db:
                case = db.get(CaseRow, case_id)
                if case is None:
                    raise SessionStateError(f"case {case_id} does not exist")
                case.finished_at = _now()
                case.decision = verdict.decision.value
                case.verdict_json = json.dumps(verdict.to_dict())
                db.add(MessageRow(case_id=case_id, sequence=sequence, kind="finish",
                                  received_at=_now(), payload_bytes=0))
        except IntegrityError:
            stored = self.verdict(case_id)
            assert stored is not None
            return stored, True
        return verdict, False

    def verdict(self, case_id: str) -> Verdict | None:
        with self._sessions() as db:
            text = db.scalar(select(CaseRow.verdict_json).where(CaseRow.id == case_id))
            return Verdict.from_dict(json.loads(text)) if text else None

    def message_counts(self) -> dict[str, int]:
        """(for operators and tests) committed messages per kind."""
        with self._sessions() as db:
            return dict(db.execute(select(MessageRow.kind, func.count())
                                   .group_by(MessageRow.kind)).all())

    def session_sequences(self, client_session_id: str) -> list[int]:
        with self._sessions() as db:
            return list(db.scalars(
                select(MessageRow.sequence).join(CaseRow, CaseRow.id == MessageRow.case_id)
                .where(CaseRow.client_session_id == client_session_id)
                .order_by(MessageRow.sequence)).all())
