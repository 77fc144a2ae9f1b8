"""SQLAlchemy tables of the case store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (DateTime, ForeignKey, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    """One applicant visit (one capture-station session)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_session_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    station_id: Mapped[str] = mapped_column(String(64))
    officer_id: Mapped[str] = mapped_column(String(64))
    application_json: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    capture_sequence: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16), index=True)
    verdict_json: Mapped[str | None] = mapped_column(Text)


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
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    subtype: Mapped[str | None] = mapped_column(String(32))  # document kind or finger position
    result_json: Mapped[str | None] = mapped_column(Text)
    error_json: Mapped[str | None] = mapped_column(Text)
