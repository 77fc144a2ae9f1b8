"""The gallery tables (SQLAlchemy Core). Alembic migrations 0002, 0004, 0005 and 0006 make
them; a change here needs a new migration.

Columns marked "sealed" hold AES-256-GCM ciphertext (verifier.cases.crypto), bound to their
row by `context`.
"""

from __future__ import annotations

from sqlalchemy import (Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table,
                        UniqueConstraint)

NIK_HASH_CHARS = 64 + 1 + 64  # "<key id>:<hex HMAC-SHA256>" (key ids have at most 64 chars)
EMBEDDER_CHARS = 128

metadata = MetaData()

face_gallery = Table(
    "face_gallery", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("label", String(32), nullable=False),
    Column("nik_hash", String(NIK_HASH_CHARS), nullable=False, index=True),
    Column("nik", LargeBinary, nullable=False),  # sealed: only to re-hash on key rotation
    # sealed: float32 little-endian, as many as the embedder's dimension
    Column("embedding", LargeBinary, nullable=False),
    # "<registry name>@<model sha256, 12 hex>" (verifier.galleries.face.EmbedderIdentity):
    # vectors of two models cannot be compared, so each embedder searches only its own rows.
    Column("embedder", String(EMBEDDER_CHARS), nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "label", name="uq_face_gallery_case_label"),
    # A catch-up reads its embedder's rows above the ids it holds, past other models' rows.
    Index("ix_face_gallery_embedder_id", "embedder", "id"),
    # Ids are never reused (verifier.galleries.rows.RowFollower relies on it).
    sqlite_autoincrement=True,
)

fingerprint_gallery = Table(
    "fingerprint_gallery", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # ISO/IEC 19794-2 finger position 1-10
    Column("nik_hash", String(NIK_HASH_CHARS), nullable=False, index=True),
    Column("nik", LargeBinary, nullable=False),  # sealed: only to re-hash on key rotation
    Column("template", LargeBinary, nullable=False),  # sealed: ISO/IEC 19794-2 record
    # Sealed float32 little-endian (verifier.fingerprint.index): a pair histogram cannot be
    # turned back into a print, but it links the same finger across databases like any
    # biometric feature, so it is protected like the template it comes from.
    Column("index_vector", LargeBinary, nullable=False),
    Column("index_version", String(64), nullable=False),  # IndexParams.version
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "position", name="uq_fingerprint_gallery_case_position"),
    sqlite_autoincrement=True,
)

# One row per gallery table: how many deletes it has seen (verifier.galleries.rows).
gallery_deletions = Table(
    "gallery_deletions", metadata,
    Column("table_name", String(64), primary_key=True),
    Column("deletions", Integer, nullable=False),
)


def context(table: str, column: str, case_id: str, slot: object) -> str:
    """Binds a sealed value to its row: one copied onto another case or slot will not open."""
    return f"{table}.{column}:{case_id}:{slot}"
