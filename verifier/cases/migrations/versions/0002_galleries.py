"""Galleries: face_gallery (NIK as a keyed hash) and fingerprint_gallery.

An earlier build created face_gallery itself (SQLAlchemy create_all, outside these
migrations) with the NIK in clear. A migration has no evidence keys, so it cannot hash those
NIKs: the old table is dropped (SQLite zeroes the freed pages: secure_delete) and made anew.
Its rows come back by enrolling the approved cases again.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
NIK_HASH = sa.String(64 + 1 + 64)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("face_gallery"):
        op.drop_table("face_gallery")
    op.create_table(
        "face_gallery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("nik_hash", NIK_HASH, nullable=False),
        sa.Column("nik", sa.LargeBinary, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("enrolled_at", TZ, nullable=False),
        sa.UniqueConstraint("case_id", "label", name="uq_face_gallery_case_label"))
    op.create_table(
        "fingerprint_gallery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("nik_hash", NIK_HASH, nullable=False),
        sa.Column("nik", sa.LargeBinary, nullable=False),
        sa.Column("template", sa.LargeBinary, nullable=False),
        sa.Column("index_vector", sa.LargeBinary, nullable=False),
        sa.Column("index_version", sa.String(64), nullable=False),
        sa.Column("enrolled_at", TZ, nullable=False),
        sa.UniqueConstraint("case_id", "position", name="uq_fingerprint_gallery_case_position"))
    for table in ("face_gallery", "fingerprint_gallery"):
        op.create_index(f"ix_{table}_case_id", table, ["case_id"])
        op.create_index(f"ix_{table}_nik_hash", table, ["nik_hash"])


def downgrade() -> None:
    for table in ("fingerprint_gallery", "face_gallery"):
        op.drop_table(table)
