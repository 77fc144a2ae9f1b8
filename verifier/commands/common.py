"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from verifier.config import Config, load_config


def db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (SQLite)."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


def config_from(args: argparse.Namespace) -> Config:
    """Defaults, then --config FILE, then the command's own --listen / --db."""
    overrides: dict[str, dict[str, object]] = {}
    if getattr(args, "listen", None):
        overrides.setdefault("server", {})["listen"] = args.listen
    if getattr(args, "db", None):
        overrides.setdefault("store", {})["url"] = db_url(args.db)
    return load_config(args.config, **overrides)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH",
                        help="also write the result as JSON to PATH ('-' for standard output)")
