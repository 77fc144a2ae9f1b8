"""`verifier`: the verification server and its operator commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from verifier.config import Config, load_config
from verifier.errors import ModelIntegrityError
from verifier.jsonout import write_json


def db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (SQLite)."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, dict[str, object]] = {}
    if getattr(args, "listen", None):
        overrides.setdefault("server", {})["listen"] = args.listen
    if getattr(args, "db", None):
        overrides.setdefault("store", {})["url"] = db_url(args.db)
    return load_config(args.config, **overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from verifier.cases.store import CaseStore
    from verifier.server.app import serve

    config = _config(args)
    store = CaseStore(config.store.url)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(config, store, config.server.listen, stop)

    return asyncio.run(main())


def cmd_check_models(args: argparse.Namespace) -> int:
    from verifier.models import read_registry, verify

    config = _config(args)
    rows, status = [], 0
    for entry in read_registry(config.models_registry):
        try:
            vm = verify(entry)
            rows.append({"name": entry.name, "ok": True, "file": str(vm.file),
                         "sha256": entry.sha256, "licence": entry.licence})
            print(f"ok       {entry.name}  {vm.file}")
        except ModelIntegrityError as exc:
            rows.append({"name": entry.name, "ok": False, "error": exc.message})
            print(f"FAILED   {entry.name}: {exc.message}")
            status = 2
    write_json(args.json, {"registry": str(config.models_registry), "models": rows})
    return status


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="verifier",
        description="Biometric and document verifier for the passport counter.")
    p.add_argument("--config", type=Path, default=None,
                   help="TOML file overriding the defaults in verifier/config.py")
    p.add_argument("--log-level", default="INFO",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (INFO)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the gRPC server (capture sessions, pre-checks, health)",
                       description="Run the gRPC server. Health is NOT_SERVING until every "
                       "model is verified and loaded; SIGTERM/SIGINT shut it down gracefully.")
    s.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default from config: 127.0.0.1:50051)")
    s.add_argument("--db", metavar="URL|PATH",
                   help="case store: SQLAlchemy URL or SQLite file path "
                   "(default sqlite:///verifier-cases.sqlite3)")
    s.set_defaults(func=cmd_serve)

    c = sub.add_parser("check-models", help="verify every model file against models/registry.toml",
                       description="Resolve every model in the registry and check its sha256.")
    c.add_argument("--json", metavar="PATH", help="also write the result as JSON ('-' for stdout)")
    c.set_defaults(func=cmd_check_models)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (ValueError, OSError, ModelIntegrityError) as exc:
        print(f"verifier: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
