"""Bring a case-store database to the newest schema with Alembic (every CaseStore does it
when it opens); the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic narrates every plugin and step at INFO, from import on; one line of ours (below)
# says what happened.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config as AlembicConfig  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import inspect  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from lebong_contract.errors import VerifierError  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None and inspect(engine).has_table("cases"):
        # Made by the pre-migration development builds, with evidence in clear: nothing to
        # carry over safely; start a new database.
        raise VerifierError(f"the case store at {engine.url.render_as_string()} predates "
                            "schema migrations and unencrypted evidence; use a new database",
                            reason="CASE_STORE_TOO_OLD")
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("case store schema upgraded from %s to %s", current or "empty", head)
