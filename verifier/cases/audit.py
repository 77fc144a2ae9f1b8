"""The audit log: who did what, when, to which case; every entry chained to the one before
by SHA-256, so that changing, removing or inserting an entry breaks the chain from there on.

The hash covers the columns exactly as stored (text), so verification needs no JSON parsing
and a flipped byte anywhere in an entry is found. Deleting entries from the end cannot be
seen from the chain alone: `verify` reports the head hash so it can be recorded elsewhere
(the daily report, a printed register).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from verifier.cases.schema import AuditRow

GENESIS = "0" * 64
_APPEND_ATTEMPTS = 20


def entry_hash(seq: int, at: str, actor: str, action: str, case_id: str, detail_json: str,
               prev_hash: str) -> str:
    # Unit separators keep field boundaries unambiguous ("ab"+"c" is not "a"+"bc").
    text = "\x1f".join((str(seq), at, actor, action, case_id, detail_json, prev_hash))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    case_id: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    ok: bool
    first_broken_seq: int | None
    problem: str
    head_hash: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def append(self, actor: str, action: str, case_id: str = "",
               detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append one entry. Concurrent writers race for the next sequence number; the loser
        retries on the new head."""
        detail_json = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False)
        for _ in range(_APPEND_ATTEMPTS):
            at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            try:
                with self._sessions.begin() as db:
                    last = db.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
                    seq = (last.seq + 1) if last else 1
                    prev = last.entry_hash if last else GENESIS
                    db.add(AuditRow(seq=seq, at=at, actor=actor, action=action, case_id=case_id,
                                    detail_json=detail_json, prev_hash=prev,
                                    entry_hash=entry_hash(seq, at, actor, action, case_id,
                                                          detail_json, prev)))
                return AuditEntry(seq, at, actor, action, case_id, detail or {})
            except IntegrityError:
                continue
        raise RuntimeError("audit log: could not append after repeated write conflicts")

    def entries(self, case_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """Newest first."""
        with self._sessions() as db:
            query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
            if case_id is not None:
                query = query.where(AuditRow.case_id == case_id)
            return [AuditEntry(r.seq, r.at, r.actor, r.action, r.case_id,
                               _detail(r.detail_json)) for r in db.scalars(query)]

    def count(self) -> int:
        with self._sessions() as db:
            return int(db.scalar(select(func.count()).select_from(AuditRow)) or 0)

    def verify(self) -> ChainCheck:
        """Walk the whole chain in order; the first entry whose hash, link or sequence is
        wrong is named."""
        prev, expected_seq, n = GENESIS, 1, 0
        with self._sessions() as db:
            for r in db.execute(select(AuditRow).order_by(AuditRow.seq)).scalars().yield_per(1000):
                n += 1
                problem = ""
                if r.seq != expected_seq:
                    problem = f"sequence jumps from {expected_seq - 1} to {r.seq} (entries removed)"
                elif r.prev_hash != prev:
                    problem = "does not link to the entry before it (an entry was removed, " \
                              "inserted or altered)"
                elif entry_hash(r.seq, r.at, r.actor, r.action, r.case_id, r.detail_json,
                                r.prev_hash) != r.entry_hash:
                    problem = "content does not match its hash (the entry was altered)"
                if problem:
                    return ChainCheck(n, False, r.seq, problem, prev)
                prev, expected_seq = r.entry_hash, r.seq + 1
        return ChainCheck(n, True, None, "", prev)


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text[:80]}
    return value if isinstance(value, dict) else {"value": value}
