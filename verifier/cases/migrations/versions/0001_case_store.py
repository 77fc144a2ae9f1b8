"""Case store: cases, messages, reviews, users, hash-chained audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_session_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=False),
        sa.Column("application_json", sa.Text, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("capture_sequence", sa.Integer),
        sa.Column("decision", sa.String(16)),
        sa.Column("verdict_json", sa.Text),
        sa.Column("flag_rules", sa.Text),
        sa.Column("review_decision", sa.String(24)),
        sa.Column("evidence_purged_at", TZ))
    op.create_index("ix_cases_client_session_id", "cases", ["client_session_id"], unique=True)
    for column in ("station_id", "officer_id", "started_at", "decision", "review_decision"):
        op.create_index(f"ix_cases_{column}", "cases", [column])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("payload_sha256", sa.String(64)),
        sa.Column("payload_bytes", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary),
        sa.Column("subtype", sa.String(32)),
        sa.Column("result_json", sa.Text),
        sa.Column("error_json", sa.Text),
        sa.UniqueConstraint("case_id", "sequence", name="uq_message_sequence"))
    op.create_index("ix_messages_case_id", "messages", ["case_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", TZ, nullable=False))
    op.create_index("ix_reviews_case_id", "reviews", ["case_id"])
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False))
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("detail_json", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False))
    op.create_index("ix_audit_log_case_id", "audit_log", ["case_id"])


def downgrade() -> None:
    for table in ("audit_log", "users", "reviews", "messages", "cases"):
        op.drop_table(table)
