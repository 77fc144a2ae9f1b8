"""Galleries: on SQLite, row ids are never reused (AUTOINCREMENT).

Without it SQLite gives a new row the highest id in the table plus one, so after the newest
row is deleted (a case enrolled again replaces its rows) the next row takes the deleted row's
id, and a process following the table (verifier.galleries.rows.RowFollower), which trusts
that an id it holds still names the row it read, keeps the stale template. PostgreSQL's
sequences never hand out an id twice: nothing changes there.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("face_gallery", "fingerprint_gallery")


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        # SQLite cannot alter a primary key: the table is copied into a new one, rows,
        # indexes and constraints included, and sqlite_sequence starts at the highest id.
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
