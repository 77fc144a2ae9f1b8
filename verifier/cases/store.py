"""Case store over SQLAlchemy: SQLite by default, PostgreSQL for an office or a province, the
same code and the same Alembic migrations for both.

Every write is one transaction; callers acknowledge a station message only after the call
that records it has returned. Methods are synchronous and thread-safe (one connection per
thread; SQLite serialises writers with its busy timeout); the server calls them from its
worker threads.

Personal data is sealed with AES-256-GCM (verifier.cases.crypto) before it reaches the
database: images, the readers' results (fields, templates), the application form, the
verdict's evidence and review reasons. Identifiers, kinds, times and rule ids stay clear so
that the queue can be filtered and the store administered without the key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, inspect, make_url, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from verifier.cases import migrate
from verifier.cases.accounts import ROLES, hash_password
from verifier.cases.audit import AuditLog
from verifier.cases.crypto import (EvidenceKeyError, KeyFileRing, KeyRing, generate_ring,
                                   ring_from_config, sealed_key_id, sealed_text_key_id,
                                   write_key_file)
from verifier.cases.engine import make_engine, schema_lock, store_call
from verifier.cases.schema import CaseRow, MessageRow, ReviewRow, UserRow
from verifier.cases.sign_in import SignIns
from verifier.config import Config, StoreConfig
from verifier.consistency.verdict import Verdict
from lebong_contract.errors import PermissionDenied, ResendConflict, SessionStateError

log = logging.getLogger(__name__)

REVIEW_DECISIONS = ("APPROVE", "REJECT", "REQUEST_DOCUMENTS")
FINAL_DECISIONS = ("APPROVE", "REJECT")  # a reviewer gives one of these once per case
# Items received after which the photo can no longer be retaken (see `_check_release`).
RETAKE_BLOCKING_KINDS = ("document", "fingerprint", "fingerprint_exception")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
class LiveCapture:
    """What auto-capture needs of a case, whichever replica received its frames."""

    capture_sequence: int | None
    previous_frame_result: dict[str, Any] | None  # see CaseStore.live_capture


@dataclass(frozen=True)
class CaseContents:
    case_id: str
    application: dict[str, Any]
    capture_sequence: int | None
    messages: tuple[StoredMessage, ...]
    started_at: datetime | None = None


@dataclass(frozen=True)
class CaseSummary:
    """A case as the review queue lists it (no personal data)."""

    case_id: str
    station_id: str
    officer_id: str
    started_at: datetime
    decision: str | None
    flag_rules: tuple[str, ...]
    review_decision: str | None
    evidence_purged: bool


@dataclass(frozen=True)
class ReviewRecord:
    reviewer: str
    decision: str
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class QueueFilter:
    since: date | None = None
    until: date | None = None  # inclusive
    rule: str = ""  # a rule id, or a prefix ending in "." ("identity.")
    station_id: str = ""
    officer_id: str = ""
    include_decided: bool = False


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    cases: int
    payloads_removed: int
    templates_removed: int

    def to_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "cases": self.cases,
                "payloads_removed": self.payloads_removed,
                "templates_removed": self.templates_removed}


def flag_column(verdict: Verdict) -> str:
    """`cases.flag_rules`: " rule.a rule.b " (the spaces let the queue match a whole id)."""
    return " " + " ".join(sorted({f.rule_id for f in verdict.flags})) + " "


def default_key_file(url: str) -> Path | None:
    """For a SQLite file, the key lives next to it as <file>.key; None for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().with_name(Path(parsed.database).name + ".key")


def _holds_cases(url: str) -> bool:
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table(CaseRow.__tablename__):
            return False
        with engine.connect() as conn:
            return conn.scalar(select(CaseRow.id).limit(1)) is not None
    finally:
        engine.dispose()


def keys_for(url: str, key_file: str = "", inline: tuple[str, ...] = ()) -> KeyRing:
    """The configured keys; without any, a new SQLite store creates its own key file (readable
    by its owner only) and an in-memory one an ephemeral key. A server database must be given
    its keys: a key next to a shared database protects nothing. A SQLite store that already
    holds cases never gets a new key in place of a missing file: its evidence would be lost.
    Keys from a file follow it (`KeyFileRing`): a rotation reaches running processes."""
    if inline:
        return ring_from_config(inline)
    if key_file:
        return KeyFileRing(Path(key_file))
    if make_url(url).get_backend_name() == "sqlite":
        path = default_key_file(url)
        if path is None:
            return generate_ring()
        if not path.exists() and Path(make_url(url).database or "").exists() \
                and _holds_cases(url):
            raise EvidenceKeyError(
                f"key file {path} is missing and {make_url(url).database} holds sealed cases: "
                "restore the key file from its backup (a new key would leave every earlier "
                "case unreadable)")
        if not path.exists():
            log.warning("no evidence key configured: created %s (keep it apart from backups "
                        "of the database, or configure [cases].key_file)", path)
            write_key_file(path, generate_ring())
        return KeyFileRing(path)
    raise EvidenceKeyError("this case store needs an evidence key: set [cases].key_file "
                           "(see `verifier keys init`) or [cases].keys")


class CaseStore:
    def __init__(self, url: str, keys: KeyRing | None = None,
                 settings: StoreConfig = StoreConfig()) -> None:
        self.engine = make_engine(url, settings)
        with schema_lock(self.engine):
            migrate.upgrade(self.engine)
        self.keys = keys if keys is not None else keys_for(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._check_keys()
        self.audit = AuditLog(self._sessions, lambda: self.keys)
        self.sign_ins = SignIns(self._sessions, lambda: self.keys, self.audit)

    def close(self) -> None:
        self.engine.dispose()

    # -- sealing ------------------------------------------------------------------------

    def _check_keys(self) -> None:
        """Refuse keys that do not open this database (a lost, swapped or wrong key file):
        a store that started anyway would seal new cases under a key nobody kept alongside
        the old ones. Samples the oldest and newest case, not every value (see
        verifier.cases.key_usage for the full count)."""
        with self._sessions() as db:
            rows = [db.scalar(select(CaseRow).order_by(order).limit(1))
                    for order in (CaseRow.started_at.asc(), CaseRow.started_at.desc())]
        if rows[0] is None or rows[1] is None:
            return
        needed = sorted({sealed_text_key_id(r.application_json) for r in rows})
        missing = [k for k in needed if k not in self.keys.keys]
        if missing:
            raise EvidenceKeyError(
                f"the case store holds evidence sealed with key(s) {', '.join(missing)}, "
                f"not in the key ring (which has {', '.join(self.keys.keys)}): configure the "
                "key file those cases were sealed with, restored from its backup")
        try:
            self._open_json(rows[1].application_json, self._ctx("cases.application", rows[1].id))
        except EvidenceKeyError:
            key_id = sealed_text_key_id(rows[1].application_json)
            raise EvidenceKeyError(
                f"key {key_id} does not open this case store's evidence (a different key under "
                "the same id): configure the key file the cases were sealed with") from None

    def _seal_json(self, value: Any, context: str) -> str:
        return self.keys.seal_text(json.dumps(value, sort_keys=True), context)

    def _open_json(self, stored: str | None, context: str) -> Any:
        return None if stored is None else json.loads(self.keys.open_text(stored, context))

    @staticmethod
    def _ctx(column: str, case_id: str, sequence: int | None = None) -> str:
        return f"{column}:{case_id}" + ("" if sequence is None else f":{sequence}")

    # -- sessions -----------------------------------------------------------------------

    @store_call
    def start_session(self, client_session_id: str, sequence: int, station_id: str,
                      officer_id: str, application: dict[str, Any], digest: str = ""
                      ) -> tuple[CaseRef, bool]:
        """Create the case for a session; returns (case, duplicate). A resent start is a
        duplicate and changes nothing; one whose content differs raises ResendConflict."""
        existing = self.find_case(client_session_id)
        if existing is not None:
            self.check_resend(existing.case_id, sequence, digest)
            return existing, True
        case_id = str(uuid.uuid4())
        now = _now()
        try:
            with self._sessions.begin() as db:
                db.add(CaseRow(id=case_id, client_session_id=client_session_id,
                               station_id=station_id, officer_id=officer_id,
                               application_json=self._seal_json(
                                   application, self._ctx("cases.application", case_id)),
                               started_at=now))
                db.flush()
                db.add(MessageRow(case_id=case_id, sequence=sequence, kind="start",
                                  received_at=now, payload_bytes=0,
                                  payload_sha256=digest or None))
        except IntegrityError:
            found = self.find_case(client_session_id)
            assert found is not None
            self.check_resend(found.case_id, sequence, digest)
            return found, True
        return CaseRef(case_id, client_session_id, False), False

    @store_call
    def find_case(self, client_session_id: str) -> CaseRef | None:
        with self._sessions() as db:
            row = db.scalar(select(CaseRow).where(CaseRow.client_session_id == client_session_id))
            if row is None:
                return None
            return CaseRef(row.id, row.client_session_id, row.finished_at is not None)

    # -- messages -----------------------------------------------------------------------

    @store_call
    def check_resend(self, case_id: str, sequence: int, digest: str) -> bool:
        """True when `sequence` is already committed (a resend). Raises ResendConflict when
        the committed message's digest differs from `digest` (both known): the same number
        with another content is a broken or hostile client, never a resend."""
        with self._sessions() as db:
            row = db.execute(select(MessageRow.kind, MessageRow.payload_sha256).where(
                MessageRow.case_id == case_id, MessageRow.sequence == sequence)).first()
        if row is None:
            return False
        if digest and row.payload_sha256 and row.payload_sha256 != digest:
            log.warning("case %s: sequence %d resent with a different content (stored %s, "
                        "sent %s); refused", case_id, sequence, row.payload_sha256[:12],
                        digest[:12])
            raise ResendConflict(
                f"sequence {sequence} was already committed with a different content",
                metadata={"sequence": str(sequence), "case_id": case_id})
        return True

    @store_call
    def count_messages(self, case_id: str, kind: str) -> int:
        with self._sessions() as db:
            return int(db.scalar(select(func.count()).select_from(MessageRow).where(
                MessageRow.case_id == case_id, MessageRow.kind == kind)) or 0)

    @store_call
    def missing_sequences(self, case_id: str, below: int) -> list[int]:
        """Sequence numbers 1..below-1 that the case has not committed."""
        with self._sessions() as db:
            have = set(db.scalars(select(MessageRow.sequence).where(
                MessageRow.case_id == case_id, MessageRow.sequence < below)))
        return [n for n in range(1, below) if n not in have]

    @store_call
    def record_message(self, case_id: str, sequence: int, kind: str, *, data: bytes,
                       keep_payload: bool, subtype: str | None = None,
                       result: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
                       accept_capture: bool = False, release_capture: bool = False,
                       digest: str = "") -> tuple[bool, bool]:
        """Commit one message with its result or error. Returns (duplicate, capture_accepted):
        capture_accepted is True when this frame became the session's photo. `digest` is
        the SHA-256 of the station's message (see `check_resend`); without one, of `data`.
        Raises StoreUnavailable when the database cannot commit.

        `release_capture` (a photo retake): the accepted capture is released, so that a later
        frame becomes the photo; the released frame stays stored and its sequence is added
        to `result` as "released_capture". Raises SessionStateError, committing nothing, when
        no capture was accepted or an item the capture is compared with was received.

        The case's row is locked until the commit (PostgreSQL; SQLite has one writer at a
        time anyway), so replicas racing on one case accept one capture and store no message
        after its verdict."""
        accepted = False
        try:
            with self._sessions.begin() as db:
                case = db.get(CaseRow, case_id, with_for_update=True)
                if case is None:
                    raise SessionStateError(f"case {case_id} does not exist")
                if case.finished_at is not None:
                    raise SessionStateError("session already finished; start a new session",
                                            metadata={"case_id": case_id})
                if accept_capture and case.capture_sequence is None:
                    case.capture_sequence = sequence
                    accepted = True
                if release_capture:
                    self._check_release(db, case)
                    result = {**(result or {}), "released_capture": case.capture_sequence}
                    case.capture_sequence = None
                keep = data and (keep_payload or accepted)
                db.add(MessageRow(
                    case_id=case_id, sequence=sequence, kind=kind, received_at=_now(),
                    payload_sha256=digest or (hashlib.sha256(data).hexdigest() if data
                                              else None),
                    payload_bytes=len(data),
                    payload=self.keys.seal(data, self._ctx("messages.payload", case_id, sequence))
                    if keep else None, subtype=subtype,
                    result_json=self._seal_json(result, self._ctx("messages.result", case_id,
                                                                  sequence))
                    if result is not None else None,
                    error_json=json.dumps(error) if error is not None else None))
        except IntegrityError:
            # Committed before (a resend, the other replica, or our own commit whose answer
            # a broken connection lost): the capture is accepted if it was this frame.
            self.check_resend(case_id, sequence, digest)
            return True, accept_capture and self.capture_sequence(case_id) == sequence
        return False, accepted

    @staticmethod
    def _check_release(db: Session, case: CaseRow) -> None:
        """Refuse a retake with nothing to release, or once a document or finger was received:
        their rules compare with the photo, so the rule stays simple (retake first)."""
        if case.capture_sequence is None:
            raise SessionStateError("no photo has been accepted in this session yet: nothing "
                                    "to retake", metadata={"case_id": case.id})
        item = db.execute(select(MessageRow.sequence, MessageRow.kind).where(
            MessageRow.case_id == case.id, MessageRow.kind.in_(RETAKE_BLOCKING_KINDS))
            .order_by(MessageRow.sequence).limit(1)).first()
        if item is not None:
            raise SessionStateError(
                f"a photo retake is possible only before documents and fingerprints; this "
                f"session already received a {item.kind} (sequence {item.sequence}); start a "
                "new session to take another photo",
                metadata={"case_id": case.id, "kind": item.kind,
                          "sequence": str(item.sequence)})

    @store_call
    def capture_sequence(self, case_id: str) -> int | None:
        """The frame accepted as the case's photo, if any."""
        with self._sessions() as db:
            return db.scalar(select(CaseRow.capture_sequence).where(CaseRow.id == case_id))

    @store_call
    def live_capture(self, case_id: str, before_sequence: int,
                     wanted: Callable[[dict[str, Any]], bool], lookback: int = 32
                     ) -> LiveCapture:
        """The case's live-capture state as committed by any replica: its accepted capture,
        and the result of its newest frame below `before_sequence` that is `wanted`, among
        the latest `lookback` frames with a result (the decode gate's refusals have none)
        sent after the last accepted photo retake (a retake starts the streak again)."""
        with self._sessions() as db:
            capture = db.scalar(select(CaseRow.capture_sequence).where(CaseRow.id == case_id))
            retake = db.scalar(select(func.max(MessageRow.sequence)).where(
                MessageRow.case_id == case_id, MessageRow.kind == "photo_retake",
                MessageRow.sequence < before_sequence, MessageRow.error_json.is_(None)))
            rows = db.execute(select(MessageRow.sequence, MessageRow.result_json).where(
                MessageRow.case_id == case_id, MessageRow.kind == "frame",
                MessageRow.sequence < before_sequence, MessageRow.sequence > (retake or 0),
                MessageRow.result_json.is_not(None))
                .order_by(MessageRow.sequence.desc()).limit(lookback))
            for row in rows:  # fetched one by one: usually the newest is the one
                result = self._open_json(row.result_json, self._ctx("messages.result",
                                                                    case_id, row.sequence))
                if wanted(result):
                    return LiveCapture(capture, result)
        return LiveCapture(capture, None)

    @store_call
    def contents(self, case_id: str, *, frames: bool = True) -> CaseContents:
        """The case and its messages with their opened results. `frames=False` leaves out the
        live frames but the accepted capture: hundreds of results nothing but the photo rules
        and the liveness check read."""
        with self._sessions() as db:
            case = db.get(CaseRow, case_id)
            if case is None:
                raise SessionStateError(f"case {case_id} does not exist")
            query = select(MessageRow).where(MessageRow.case_id == case_id)
            if not frames:  # sequence numbers start at 1: 0 is no capture
                query = query.where((MessageRow.kind != "frame") | (
                    MessageRow.sequence == (case.capture_sequence or 0)))
            rows = db.scalars(query.order_by(MessageRow.sequence)).all()
            return CaseContents(
                case_id=case_id,
                application=self._open_json(case.application_json,
                                            self._ctx("cases.application", case_id)),
                capture_sequence=case.capture_sequence, started_at=_utc(case.started_at),
                messages=tuple(self._stored(r) for r in rows))

    @store_call
    def messages_of_kind(self, case_id: str, kind: str) -> tuple[StoredMessage, ...]:
        """The case's committed messages of one kind, with their opened results."""
        with self._sessions() as db:
            rows = db.scalars(select(MessageRow).where(
                MessageRow.case_id == case_id, MessageRow.kind == kind)
                .order_by(MessageRow.sequence)).all()
            return tuple(self._stored(r) for r in rows)

    def _stored(self, row: MessageRow) -> StoredMessage:
        return StoredMessage(
            sequence=row.sequence, kind=row.kind, subtype=row.subtype,
            result=self._open_json(row.result_json,
                                   self._ctx("messages.result", row.case_id, row.sequence)),
            error=json.loads(row.error_json) if row.error_json else None,
            has_payload=row.payload is not None)

    @store_call
    def payload(self, case_id: str, sequence: int) -> bytes | None:
        with self._sessions() as db:
            blob = db.scalar(select(MessageRow.payload).where(
                MessageRow.case_id == case_id, MessageRow.sequence == sequence))
        if blob is None:
            return None
        return self.keys.open(blob, self._ctx("messages.payload", case_id, sequence))

    # -- verdicts -----------------------------------------------------------------------

    def finish(self, case_id: str, sequence: int, verdict: Verdict) -> tuple[Verdict, bool]:
        """Store the verdict and the finish message; returns (stored verdict, duplicate).
        A case is finished once: a second finish returns the verdict stored the first time."""
        return self.finish_once(case_id, sequence, lambda: verdict)

    @store_call
    def finish_once(self, case_id: str, sequence: int, decide: Callable[[], Verdict]
                    ) -> tuple[Verdict, bool]:
        """`finish` with the verdict computed by `decide` while the case's row is locked
        (PostgreSQL): a Finish that reaches two replicas at once is decided once, the other
        waits and returns the stored verdict. `decide` reads and writes through connections
        of its own (the case's rows and the galleries), never the case's row."""
        stored = self.verdict(case_id)
        if stored is not None:
            return stored, True
        try:
            with self._sessions.begin() as db:
                case = db.get(CaseRow, case_id, with_for_update=True)
                if case is None:
                    raise SessionStateError(f"case {case_id} does not exist")
                stored = self.open_verdict(case_id, case.verdict_json)
                if stored is not None:  # decided by another replica while we waited
                    return stored, True
                verdict = decide()
                case.finished_at = _now()
                case.decision = verdict.decision.value
                case.verdict_json = self._seal_json(verdict.to_dict(),
                                                    self._ctx("cases.verdict", case_id))
                case.flag_rules = flag_column(verdict)
                db.add(MessageRow(case_id=case_id, sequence=sequence, kind="finish",
                                  received_at=_now(), payload_bytes=0))
        except IntegrityError:
            stored = self.verdict(case_id)
            if stored is None:
                raise ResendConflict(f"sequence {sequence} was already committed as another "
                                     "message, not as Finish",
                                     metadata={"sequence": str(sequence), "case_id": case_id})
            return stored, True
        return verdict, False

    @store_call
    def verdict(self, case_id: str) -> Verdict | None:
        with self._sessions() as db:
            text = db.scalar(select(CaseRow.verdict_json).where(CaseRow.id == case_id))
        return self.open_verdict(case_id, text)

    def open_verdict(self, case_id: str, sealed: str | None) -> Verdict | None:
        """A case's `verdict_json` as stored, opened; EvidenceKeyError when not authentic."""
        data = self._open_json(sealed, self._ctx("cases.verdict", case_id))
        return Verdict.from_dict(data) if data else None

    def finished_case_ids(self, exclude: str | None = None) -> list[str]:
        """Ids of finished cases, oldest first (earlier applicants, for 1:N searches)."""
        with self._sessions() as db:
            ids = db.scalars(select(CaseRow.id).where(CaseRow.finished_at.is_not(None))
                             .order_by(CaseRow.started_at)).all()
        return [case_id for case_id in ids if case_id != exclude]

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

    # -- review -------------------------------------------------------------------------

    @staticmethod
    def _summary(row: CaseRow) -> CaseSummary:
        return CaseSummary(case_id=row.id, station_id=row.station_id, officer_id=row.officer_id,
                           started_at=_utc(row.started_at), decision=row.decision,
                           flag_rules=tuple((row.flag_rules or "").split()),
                           review_decision=row.review_decision,
                           evidence_purged=row.evidence_purged_at is not None)

    def queue(self, where: QueueFilter = QueueFilter(), limit: int = 500) -> list[CaseSummary]:
        """Finished REVIEW and FAIL cases, oldest first (first come, first served)."""
        query = select(CaseRow).where(CaseRow.decision.in_(("REVIEW", "FAIL")))
        if not where.include_decided:
            # Asking for documents keeps a case open until someone approves or rejects it.
            query = query.where((CaseRow.review_decision.is_(None))
                                | (CaseRow.review_decision == "REQUEST_DOCUMENTS"))
        if where.since:
            query = query.where(CaseRow.started_at >= datetime.combine(
                where.since, datetime.min.time(), timezone.utc))
        if where.until:
            query = query.where(CaseRow.started_at < datetime.combine(
                where.until + timedelta(days=1), datetime.min.time(), timezone.utc))
        if where.rule:
            pattern = f"% {where.rule}%" if where.rule.endswith(".") else f"% {where.rule} %"
            query = query.where(CaseRow.flag_rules.like(pattern))
        if where.station_id:
            query = query.where(CaseRow.station_id == where.station_id)
        if where.officer_id:
            query = query.where(CaseRow.officer_id == where.officer_id)
        with self._sessions() as db:
            return [self._summary(r) for r in db.scalars(
                query.order_by(CaseRow.started_at).limit(limit))]

    @store_call
    def summary(self, case_id: str) -> CaseSummary:
        with self._sessions() as db:
            row = db.get(CaseRow, case_id)
            if row is None:
                raise SessionStateError(f"case {case_id} does not exist")
            return self._summary(row)

    def record_review(self, case_id: str, reviewer: str, decision: str, reason: str) -> None:
        """The decision, and its audit entry, in one transaction."""
        if decision not in REVIEW_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
        if not reason.strip():
            raise ValueError("a decision needs a reason")
        now = _now()

        def decide(db: Session) -> None:
            case = db.get(CaseRow, case_id)
            if case is None:
                raise SessionStateError(f"case {case_id} does not exist")
            if case.finished_at is None:
                raise SessionStateError("the case has no verdict yet; it cannot be decided")
            # Four eyes, inside the decision's transaction (a racing second post retries on
            # the audit head and sees the first): not the case's officer, and no second final
            # decision by the same reviewer (after asking for documents they may decide).
            if case.officer_id == reviewer or db.scalar(select(ReviewRow.id).where(
                    ReviewRow.case_id == case_id, ReviewRow.reviewer == reviewer,
                    ReviewRow.decision.in_(FINAL_DECISIONS)).limit(1)):
                raise PermissionDenied(f"four eyes: {reviewer} operated or already decided "
                                       f"case {case_id}")
            case.review_decision = decision
            review = ReviewRow(case_id=case_id, reviewer=reviewer, decision=decision, reason="",
                               decided_at=now)
            db.add(review)
            db.flush()  # the row id is part of the reason's sealing context
            review.reason = self.keys.seal_text(reason.strip(), self._ctx(
                "reviews.reason", case_id, review.id))

        # The reason stays sealed in the review row; the chain records who, what and when.
        self.audit.append(reviewer, "decision", case_id, {"decision": decision}, also=decide)

    def reviews(self, case_id: str) -> list[ReviewRecord]:
        with self._sessions() as db:
            rows = db.scalars(select(ReviewRow).where(ReviewRow.case_id == case_id)
                              .order_by(ReviewRow.id)).all()
        return [ReviewRecord(r.reviewer, r.decision, self.keys.open_text(
            r.reason, self._ctx("reviews.reason", case_id, r.id)), _utc(r.decided_at))
            for r in rows]

    # -- accounts -----------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or not username.replace("-", "").replace(
                "_", "").replace(".", "").isalnum():
            raise ValueError("username: 1-64 letters, digits, '-', '_' or '.'")
        try:
            with self._sessions.begin() as db:
                db.add(UserRow(username=username, password_hash=hash_password(password),
                               role=role, created_at=_now(), disabled=False))
        except IntegrityError:
            raise ValueError(f"user {username} already exists") from None
        self.audit.append("cli", "user_added", "", {"username": username, "role": role})

    def set_user_disabled(self, username: str, disabled: bool) -> None:
        with self._sessions.begin() as db:
            user = db.get(UserRow, username)
            if user is None:
                raise ValueError(f"no user {username}")
            user.disabled = disabled
        self.audit.append("cli", "user_disabled" if disabled else "user_enabled", "",
                          {"username": username})

    def users(self) -> list[dict[str, Any]]:
        with self._sessions() as db:
            return [{"username": u.username, "role": u.role, "disabled": u.disabled,
                     "created_at": _utc(u.created_at).isoformat()}
                    for u in db.scalars(select(UserRow).order_by(UserRow.username))]

    # -- retention and keys ---------------------------------------------------------------

    def purge_evidence(self, older_than_days: int, actor: str = "cli",
                       dry_run: bool = False) -> PurgeReport:
        """Remove the images and biometric templates of cases started before the cutoff; the
        case, its verdict, the fields read and the decisions stay as the record."""
        if older_than_days < 0:
            raise ValueError("retention period must not be negative")
        cutoff = _now() - timedelta(days=older_than_days)
        cases = payloads = templates = 0
        with self._sessions.begin() as db:
            rows = db.scalars(select(CaseRow).where(CaseRow.started_at < cutoff,
                                                    CaseRow.evidence_purged_at.is_(None))).all()
            for case in rows:
                cases += 1
                for m in db.scalars(select(MessageRow).where(MessageRow.case_id == case.id)):
                    if m.payload is not None:
                        payloads += 1
                        m.payload = None
                    ctx = self._ctx("messages.result", case.id, m.sequence)
                    result = self._open_json(m.result_json, ctx)
                    # Templates, the face embeddings and the passport crop are biometric data.
                    biometric = ("record", "face", "passport_photo_jpeg_base64")
                    if isinstance(result, dict) and any(result.get(k) for k in biometric):
                        templates += 1
                        for key in biometric:
                            result.pop(key, None)
                        m.result_json = self._seal_json(result, ctx)
                case.evidence_purged_at = _now()
            if dry_run:
                db.rollback()
        report = PurgeReport(cutoff, cases, payloads, templates)
        if not dry_run:
            self.audit.append(actor, "retention_purge", "", report.to_dict())
        return report

    def reencrypt(self, new_keys: KeyRing, actor: str = "cli") -> int:
        """Re-seal every value not sealed with `new_keys`' active key (the old keys must still
        be in `new_keys`). Returns how many values were re-sealed. Each case is its own
        transaction, so an interrupted rotation resumes where it stopped."""
        changed = 0
        self.keys = new_keys
        active = new_keys.active_id
        with self._sessions() as db:
            case_ids = list(db.scalars(select(CaseRow.id)))
        for case_id in case_ids:
            with self._sessions.begin() as db:
                case = db.get(CaseRow, case_id)
                assert case is not None
                for attr, column in (("application_json", "cases.application"),
                                     ("verdict_json", "cases.verdict")):
                    value = getattr(case, attr)
                    if value is not None and sealed_text_key_id(value) != active:
                        ctx = self._ctx(column, case_id)
                        setattr(case, attr, new_keys.seal_text(new_keys.open_text(value, ctx),
                                                               ctx))
                        changed += 1
                for m in db.scalars(select(MessageRow).where(MessageRow.case_id == case_id)):
                    if m.payload is not None and sealed_key_id(m.payload) != active:
                        ctx = self._ctx("messages.payload", case_id, m.sequence)
                        m.payload = new_keys.seal(new_keys.open(m.payload, ctx), ctx)
                        changed += 1
                    if m.result_json is not None and sealed_text_key_id(m.result_json) != active:
                        ctx = self._ctx("messages.result", case_id, m.sequence)
                        m.result_json = new_keys.seal_text(new_keys.open_text(m.result_json, ctx),
                                                           ctx)
                        changed += 1
                for r in db.scalars(select(ReviewRow).where(ReviewRow.case_id == case_id)):
                    if sealed_text_key_id(r.reason) != active:
                        ctx = self._ctx("reviews.reason", case_id, r.id)
                        r.reason = new_keys.seal_text(new_keys.open_text(r.reason, ctx), ctx)
                        changed += 1
        changed += self.sign_ins.reencrypt(new_keys)  # officers' and reviewers' TOTP secrets
        audit_entries = self.audit.rekey()  # the chain's MACs move to the new key too
        self.audit.append(actor, "keys_reencrypted", "", {"active_key": active,
                                                          "values": changed,
                                                          "audit_entries": audit_entries})
        return changed


def open_store(config: Config) -> CaseStore:
    """The case store the configuration names, with its evidence keys."""
    url = config.store.url
    return CaseStore(url, keys_for(url, config.cases.key_file, config.cases.keys),
                     config.store)
