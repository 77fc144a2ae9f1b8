"""Sign-in: TOTP second factors on accounts, sign-in attempts (throttling) and server-side
sessions (review page, officer tokens).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # batch: SQLite cannot add columns with every ALTER form PostgreSQL can; batch copes.
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("totp_secret", sa.Text))
        users.add_column(sa.Column("totp_last_step", sa.Integer))
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(128), nullable=False),
        sa.Column("at", TZ, nullable=False))
    for column in ("username", "client", "at"):
        op.create_index(f"ix_sign_in_attempts_{column}", "sign_in_attempts", [column])
    op.create_table(
        "signed_in_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("client", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("idle_seconds", sa.Integer, nullable=False),
        sa.Column("expires_at", TZ, nullable=False))
    op.create_index("ix_signed_in_sessions_username", "signed_in_sessions", ["username"])
    op.create_index("ix_signed_in_sessions_expires_at", "signed_in_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("signed_in_sessions")
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("users") as users:
        users.drop_column("totp_last_step")
        users.drop_column("totp_secret")
