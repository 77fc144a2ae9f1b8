"""`verifier check-models`: verify every model file against the registry."""

from __future__ import annotations

import argparse

from verifier.commands.common import add_json_option, config_from
from lebong_contract.errors import ModelIntegrityError
from verifier.jsonout import write_json


def run(args: argparse.Namespace) -> int:
    from verifier.models import read_registry, verify

    config = config_from(args)
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


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check-models", help="verify every model file against models/registry.toml",
                       description="Resolve every model in the registry and check its sha256.")
    add_json_option(c)
    c.set_defaults(func=run)
