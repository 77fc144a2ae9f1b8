"""SQLAlchemy tables of the case store. Alembic migrations (verifier/cases/migrations) create
and change them; a change here needs a new migration.

Columns marked "sealed" hold AES-256-GCM ciphertext (verifier.cases.crypto): base64 text for
JSON, raw bytes for images.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    """One applicant visit (one capture-station session)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_session_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    officer_id: Mapped[str] = mapped_column(String(64), index=True)
    application_json: Mapped[str] = mapped_column(Text)  # sealed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    capture_sequence: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16), index=True)
    verdict_json: Mapped[str | None] = mapped_column(Text)  # sealed
    # " rule.a rule.b " (rule ids only, no personal data): the review queue filters on it.
    flag_rules: Mapped[str | None] = mapped_column(Text)
    review_decision: Mapped[str | None] = mapped_column(String(24), index=True)
    evidence_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageRow(Base):
    """One committed station message; (case, sequence) is the idempotency key."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_message_sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    payload_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # Kept for documents, fingerprints and the accepted capture; other frames keep only their
    # hash and analysis (streaming every frame into the case would be mostly noise).
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    subtype: Mapped[str | None] = mapped_column(String(32))  # document kind or finger position
    result_json: Mapped[str | None] = mapped_column(Text)  # sealed: fields, templates
    error_json: Mapped[str | None] = mapped_column(Text)


class ReviewRow(Base):
    """An officer's decision on a flagged case; the latest one is copied to the case."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)  # sealed: it may quote personal data
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """A review-page account (created with `verifier users add`)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(Text)  # sealed; None: not enrolled
    # The last TOTP time step signed in with: each code works once (verifier.cases.sign_in).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class SignInAttemptRow(Base):
    """A sign-in that has not (yet) succeeded: recorded before the password is checked and
    removed on success, so counting rows per account and per client throttles guessing across
    threads and processes (verifier.cases.sign_in)."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignedInSessionRow(Base):
    """A server-side sign-in session (review page or officer token): deleting the row or
    disabling the account ends it at once. Only the token's SHA-256 is stored."""

    __tablename__ = "signed_in_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "review" or "officer"
    client: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idle_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRow(Base):
    """One hash-chained audit entry. Text columns only, hashed exactly as stored."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, as hashed
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    case_id: Mapped[str] = mapped_column(String(36), index=True)  # "" when none
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
