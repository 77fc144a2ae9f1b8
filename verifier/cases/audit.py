"""The audit log: who did what, when, to which case; every entry chained to the one before
by an HMAC-SHA256, so that changing, removing or inserting an entry breaks the chain from
there on, and nobody who can write to the database but lacks the evidence keys can rewrite
the chain and recompute it.

The MAC covers the columns exactly as stored (text), so verification needs no JSON parsing
and a flipped byte anywhere in an entry is found. Its key is derived from the active evidence
key (which lives outside the database); `rekey` moves the whole chain to a new active key
when keys rotate. Deleting entries from the end cannot be seen from the chain alone: a
`Checkpoint` (entry count and a key-independent SHA-256 digest of the content up to there,
MACed) kept elsewhere makes truncation and rewriting behind it visible.

A log begun before the chain was keyed holds plain SHA-256 links, which anyone with write
access can recompute; `verify` names them and `rechain` MACs them once, on the operator's
word, with an entry recording that they were not authenticated before that moment (every
later `verify` reports them as such, never as verified).

`rekey` and `rechain` rewrite MACs of entries that concurrent appends link to: both lock the
chain first, and an append re-reads its predecessor under the write lock and retries when it
changed, so no entry ever links to a MAC that was replaced meanwhile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from verifier.cases.crypto import KeyRing
from verifier.cases.schema import AuditRow

GENESIS = "0" * 64
_APPEND_ATTEMPTS = 20
# Domain labels: the same evidence key never serves two purposes with the same input.
_CHAIN_LABEL = b"lebong-verifier audit chain v1"
_CHECKPOINT_LABEL = b"lebong-verifier audit checkpoint v1"
RECHAINED = "audit_rechained"  # the action of the entry `rechain` writes


class _HeadMoved(Exception):
    """The entry an append links to was re-MACed before the append held the write lock."""


def _text(seq: int, at: str, actor: str, action: str, case_id: str, detail_json: str,
          prev: str) -> bytes:
    # Unit separators keep field boundaries unambiguous ("ab"+"c" is not "a"+"bc").
    return "\x1f".join((str(seq), at, actor, action, case_id, detail_json, prev)).encode()


def entry_hash(seq: int, at: str, actor: str, action: str, case_id: str, detail_json: str,
               prev_hash: str) -> str:
    """Plain SHA-256 link: the content digest a checkpoint records (no key involved, so a
    rotation that re-MACs the chain leaves it unchanged)."""
    return hashlib.sha256(_text(seq, at, actor, action, case_id, detail_json,
                                prev_hash)).hexdigest()


def chain_keys(ring: KeyRing, label: bytes = _CHAIN_LABEL) -> dict[str, bytes]:
    return {key_id: hmac.new(key, label, hashlib.sha256).digest()
            for key_id, key in ring.keys.items()}


def _mac(key: bytes, row: AuditRow, prev: str) -> str:
    return hmac.new(key, _text(row.seq, row.at, row.actor, row.action, row.case_id,
                               row.detail_json, prev), hashlib.sha256).hexdigest()


def _plain(row: AuditRow, prev: str) -> str:
    return entry_hash(row.seq, row.at, row.actor, row.action, row.case_id, row.detail_json, prev)


def _lock_chain(db: Session) -> None:
    """Hold off appends until this transaction ends (they wait, then link to what it wrote)."""
    if db.get_bind().dialect.name == "postgresql":
        # Conflicts with the row lock an append takes on the head (SELECT ... FOR UPDATE).
        db.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    else:
        # SQLite: any write statement takes the database's single write lock.
        db.execute(update(AuditRow).where(AuditRow.seq < 0).values(seq=AuditRow.seq))


def _mac_key_id(keys: dict[str, bytes], row: AuditRow) -> str | None:
    """The key whose MAC the entry carries; None when no key in the ring made it."""
    for key_id, key in keys.items():
        if hmac.compare_digest(_mac(key, row, row.prev_hash), row.entry_hash):
            return key_id
    return None


@dataclass(frozen=True)
class Checkpoint:
    """The head of the log at one moment, MACed, to keep apart from the database."""

    entries: int
    content_digest: str
    at: str
    key_id: str
    mac: str

    @staticmethod
    def _message(entries: int, content_digest: str, at: str) -> bytes:
        return f"{entries}\x1f{content_digest}\x1f{at}".encode()

    @classmethod
    def make(cls, ring: KeyRing, entries: int, content_digest: str) -> Checkpoint:
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        key = chain_keys(ring, _CHECKPOINT_LABEL)[ring.active_id]
        mac = hmac.new(key, cls._message(entries, content_digest, at), hashlib.sha256)
        return cls(entries, content_digest, at, ring.active_id, mac.hexdigest())

    def authentic(self, ring: KeyRing) -> bool:
        key = chain_keys(ring, _CHECKPOINT_LABEL).get(self.key_id)
        return key is not None and hmac.compare_digest(self.mac, hmac.new(
            key, self._message(self.entries, self.content_digest, self.at),
            hashlib.sha256).hexdigest())

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        try:
            return cls(int(data["entries"]), str(data["content_digest"]), str(data["at"]),
                       str(data["key_id"]), str(data["mac"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError("not an audit checkpoint (entries, content_digest, at, key_id, "
                             "mac)") from None


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
    content_digest: str  # plain SHA-256 chain over the entries read: what a checkpoint keeps
    # Entries 1..N predate the keyed chain: `rechain` MACed them without vouching for them.
    unauthenticated_through: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session], ring: Callable[[], KeyRing]) -> None:
        """`ring` gives the store's current evidence keys (they change when keys rotate)."""
        self._sessions = sessions
        # One consistent snapshot per use: a key file ring may reload between two reads.
        self._ring = lambda: ring().current()

    def append(self, actor: str, action: str, case_id: str = "",
               detail: dict[str, Any] | None = None,
               also: Callable[[Session], None] | None = None) -> AuditEntry:
        """Append one entry, with `also(db)` in the same transaction when given (a decision
        and its entry commit together or not at all). Concurrent writers race for the next
        sequence number; the loser retries, `also` included, on the new head."""
        detail_json = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False)
        ring = self._ring()
        key = chain_keys(ring)[ring.active_id]
        for _ in range(_APPEND_ATTEMPTS):
            at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            try:
                with self._sessions.begin() as db:
                    if also is not None:
                        also(db)
                    last = db.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)
                                     .with_for_update())
                    seq = (last.seq + 1) if last else 1
                    prev = last.entry_hash if last else GENESIS
                    row = AuditRow(seq=seq, at=at, actor=actor, action=action, case_id=case_id,
                                   detail_json=detail_json, prev_hash=prev)
                    row.entry_hash = _mac(key, row, prev)
                    db.add(row)
                    db.flush()  # the insert holds the write lock: the head cannot change now
                    if last is not None and db.scalar(select(AuditRow.entry_hash).where(
                            AuditRow.seq == last.seq)) != prev:
                        raise _HeadMoved
                return AuditEntry(seq, at, actor, action, case_id, detail or {})
            except (IntegrityError, _HeadMoved):
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

    def _rows(self, db: Session) -> Iterator[AuditRow]:
        yield from db.execute(select(AuditRow).order_by(AuditRow.seq)).scalars().yield_per(1000)

    def verify(self, checkpoint: Checkpoint | None = None) -> ChainCheck:
        """Walk the whole chain in order; the first entry whose MAC, link or sequence is
        wrong is named. With a checkpoint, also whether the log still holds, unchanged, the
        entries it counted. A prefix of plain SHA-256 entries (a log older than the keyed
        chain) fails, named, until `rechain` has accepted it."""
        ring = self._ring()
        keys = chain_keys(ring)
        if checkpoint is not None and not checkpoint.authentic(ring):
            return ChainCheck(0, False, None, "the checkpoint is not authentic (altered, or "
                              f"made with key {checkpoint.key_id}, not in the key ring)",
                              GENESIS, GENESIS)
        prev, content, expected_seq, n = GENESIS, GENESIS, 1, 0
        plain = unauthenticated = 0  # a leading run of plain entries; what `rechain` accepted
        at_checkpoint = GENESIS if checkpoint is not None and checkpoint.entries == 0 else None
        with self._sessions() as db:
            for r in self._rows(db):
                n += 1
                problem = ""
                if r.seq != expected_seq:
                    problem = f"sequence jumps from {expected_seq - 1} to {r.seq} (entries removed)"
                elif r.prev_hash != prev:
                    problem = "does not link to the entry before it (an entry was removed, " \
                              "inserted or altered)"
                elif _mac_key_id(keys, r) is None:
                    if plain == n - 1 and r.entry_hash == _plain(r, prev):
                        plain = n
                    else:
                        problem = "content does not match its MAC under any evidence key (the " \
                                  "entry was altered, or the chain recomputed without the key)"
                if problem:
                    return ChainCheck(n, False, r.seq, problem, prev, content, unauthenticated)
                if r.action == RECHAINED:
                    unauthenticated = max(unauthenticated, int(
                        _detail(r.detail_json).get("unauthenticated_through", 0)))
                content = _plain(r, content)
                prev, expected_seq = r.entry_hash, r.seq + 1
                if checkpoint is not None and r.seq == checkpoint.entries:
                    at_checkpoint = content
        if checkpoint is not None:
            if n < checkpoint.entries:
                return ChainCheck(n, False, n + 1, f"the log holds {n} entries, the checkpoint "
                                  f"of {checkpoint.at} counted {checkpoint.entries} (truncated)",
                                  prev, content, unauthenticated)
            if at_checkpoint != checkpoint.content_digest:
                return ChainCheck(n, False, None, f"the first {checkpoint.entries} entries "
                                  f"differ from those the checkpoint of {checkpoint.at} saw "
                                  "(rewritten)", prev, content, unauthenticated)
        if plain:
            # Exactly what a log rewritten from its first entry without the key looks like, too.
            return ChainCheck(n, False, 1, f"entries 1-{plain} have plain SHA-256 links, which "
                              "anyone with write access can recompute: the log predates the "
                              "keyed chain, or was rewritten from its first entry. If it "
                              "predates it, accept them once with `verifier audit rechain "
                              f"--accept-unauthenticated-through {plain}`", prev, content)
        return ChainCheck(n, True, None, "", prev, content, unauthenticated)

    def checkpoint(self) -> Checkpoint:
        """The current head, MACed; refused while the chain is broken."""
        check = self.verify()
        if not check.ok:
            raise ValueError(f"audit log broken at entry {check.first_broken_seq}: "
                             f"{check.problem}; no checkpoint made")
        return Checkpoint.make(self._ring(), check.entries, check.content_digest)

    def mac_key_ids(self) -> Counter[str]:
        """Entries per evidence key that MACed them (unauthenticated ones under "")."""
        keys = chain_keys(self._ring())
        with self._sessions() as db:
            return Counter(_mac_key_id(keys, r) or "" for r in self._rows(db))

    def rekey(self) -> int:
        """MAC the whole chain again under the active key, in one transaction that holds off
        appends, after checking it under the old ones; returns the entries whose MAC
        changed."""
        ring = self._ring()
        with self._sessions.begin() as db:
            _lock_chain(db)
            check = self.verify()
            if not check.ok:
                raise ValueError(f"audit log broken at entry {check.first_broken_seq}: "
                                 f"{check.problem}; not re-keyed")
            return self._remac(db, chain_keys(ring)[ring.active_id])[0]

    def rechain(self, accept_through: int, actor: str = "cli") -> AuditEntry:
        """Accept entries 1..`accept_through`, a plain SHA-256 chain from before the keyed
        one, and MAC the whole log under the active key, with an entry recording the boundary
        (verify reports those entries as unauthenticated from then on). `accept_through` must
        be exactly the plain prefix `verify` names: the operator vouches for what they saw."""
        ring = self._ring()
        keys = chain_keys(ring)
        with self._sessions.begin() as db:
            _lock_chain(db)
            rows = db.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
            prev, plain = GENESIS, 0
            for i, r in enumerate(rows, 1):
                if r.seq != i or r.prev_hash != prev:
                    raise ValueError(f"audit log broken at entry {r.seq}: entries removed, "
                                     "inserted or out of order; not rechained")
                if plain == i - 1 and _mac_key_id(keys, r) is None \
                        and r.entry_hash == _plain(r, prev):
                    plain = i
                elif _mac_key_id(keys, r) is None:
                    raise ValueError(f"audit log broken at entry {r.seq}: neither a plain "
                                     "SHA-256 link nor MACed with an evidence key; not "
                                     "rechained")
                prev = r.entry_hash
            if plain == 0:
                raise ValueError("the audit log holds no plain SHA-256 entries: nothing to "
                                 "rechain")
            if accept_through != plain:
                raise ValueError(f"the plain SHA-256 entries are 1-{plain}, not "
                                 f"1-{accept_through}: check them, then pass "
                                 f"--accept-unauthenticated-through {plain}")
            # The plain head names exactly what was accepted (before `_remac` replaces it).
            detail = {"unauthenticated_through": plain, "plain_head": rows[plain - 1].entry_hash}
            key = keys[ring.active_id]
            head = self._remac(db, key)[1]
            at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
            row = AuditRow(seq=len(rows) + 1, at=at, actor=actor, action=RECHAINED, case_id="",
                           detail_json=detail_json, prev_hash=head)
            row.entry_hash = _mac(key, row, head)
            db.add(row)
        return AuditEntry(row.seq, at, actor, RECHAINED, "", detail)

    @staticmethod
    def _remac(db: Session, key: bytes) -> tuple[int, str]:
        """MAC every entry, in order, with `key`; returns (entries changed, new head)."""
        changed, prev = 0, GENESIS
        for r in db.scalars(select(AuditRow).order_by(AuditRow.seq)).all():
            mac = _mac(key, r, prev)
            if (r.prev_hash, r.entry_hash) != (prev, mac):
                r.prev_hash, r.entry_hash = prev, mac
                changed += 1
            prev = mac
        return changed, prev


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text[:80]}
    return value if isinstance(value, dict) else {"value": value}
