"""`verifier precheck-keys`: API keys for PrecheckService callers without a certificate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from verifier.commands.common import config_from


def _keys_file(args: argparse.Namespace) -> Path:
    path = args.file or config_from(args).precheck.api_keys_file
    if not path:
        raise ValueError("no API key file: give --file or set [precheck] api_keys_file")
    return Path(path)


def _add(args: argparse.Namespace) -> int:
    from verifier.server.api_keys import add_key

    path = _keys_file(args)
    key = add_key(path, args.name, args.role)
    print(f"added {args.role} key for {args.name} to {path}; it is shown only now, send it "
          "as x-api-key metadata:", file=sys.stderr)
    print(key)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from verifier.server.api_keys import remove_key

    path = _keys_file(args)
    remove_key(path, args.name)
    print(f"removed {args.name}'s key from {path}; running verifiers re-read the file",
          file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from verifier.server.api_keys import ROLES

    p = sub.add_parser("precheck-keys", help="API keys for PrecheckService callers",
                       description="Manage the API keys PrecheckService accepts in x-api-key "
                       "metadata (for callers without a client certificate). The file keeps "
                       "only each key's SHA-256; a running verifier re-reads it.")
    actions = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a key and print it once",
                             description="Create a random key for NAME, store its hash and "
                             "print the key on standard output (it cannot be shown again).")
    add.add_argument("--role", choices=ROLES, default=ROLES[0],
                     help="what the key may do (default %(default)s)")
    add.set_defaults(func=_add)
    remove = actions.add_parser("remove", help="remove a key",
                                description="Remove NAME's key; calls with it are refused.")
    remove.set_defaults(func=_remove)
    for action in (add, remove):
        action.add_argument("name", metavar="NAME",
                            help="who holds the key (1-64 of A-Z a-z 0-9 _ . -)")
        action.add_argument("--file", metavar="PATH",
                            help="the key file (default: [precheck] api_keys_file)")
