"""`verifier`: the verification server and its operator commands."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from verifier.commands import (check_models, fingerprint_quality, match_fingerprints,
                               precheck, serve)
from verifier.commands import audit, galleries, keys, retention, review, users
from verifier.commands import calibrate_faces, match_faces
from verifier.commands import read_document
from verifier.commands import pki
from lebong_contract.errors import VerifierError

# Each subcommand module has register(subparsers); keep this list in help order.
COMMANDS = (serve, check_models, precheck, fingerprint_quality, match_fingerprints,
            match_faces, calibrate_faces, read_document, review, users, audit, retention, galleries, keys,
            pki)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="verifier",
        description="Biometric and document verifier for the passport counter.")
    p.add_argument("--config", type=Path, default=None,
                   help="TOML file overriding the defaults in verifier/config.py")
    p.add_argument("--log-level", default="INFO",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (INFO)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (ValueError, OSError, VerifierError) as exc:
        print(f"verifier: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
