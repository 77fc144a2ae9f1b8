"""Galleries: gallery_deletions, a counter of deletes per gallery table, so that a process
following the table learns that rows it holds may be gone without reading every row id.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "gallery_deletions",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("deletions", sa.Integer, nullable=False))
    op.bulk_insert(table, [{"table_name": "face_gallery", "deletions": 0},
                           {"table_name": "fingerprint_gallery", "deletions": 0}])


def downgrade() -> None:
    op.drop_table("gallery_deletions")
