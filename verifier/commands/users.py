"""`verifier users`: review-page accounts (passwords are stored as scrypt hashes)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from verifier.cases.accounts import MIN_PASSWORD_CHARS, ROLES
from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass(f"password for {args.username} (at least {MIN_PASSWORD_CHARS} "
                            "characters): ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _add(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    store = open_store(config_from(args))
    store.add_user(args.username, _password(args), args.role)
    print(f"user {args.username} added ({args.role})", file=sys.stderr)
    return 0


def _set_disabled(disabled: bool) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from verifier.cases.store import open_store

        open_store(config_from(args)).set_user_disabled(args.username, disabled)
        print(f"user {args.username} {'disabled' if disabled else 'enabled'}", file=sys.stderr)
        return 0
    return run


def _list(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    users = open_store(config_from(args)).users()
    for u in users:
        print(f"{u['username']:<24} {u['role']:<10} "
              f"{'disabled' if u['disabled'] else 'enabled'}", file=sys.stderr)
    write_json(args.json, users)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="review-page accounts",
                       description="Create, list, disable and enable review-page accounts.")
    actions = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account",
                             description="Create an account; the password is asked for twice "
                             "on a terminal, or read as one line with --password-stdin.")
    add.add_argument("username", help="login name (letters, digits, '-', '_', '.')")
    add.add_argument("--role", choices=ROLES, default="reviewer",
                     help="reviewer: may decide cases; auditor: may only look (reviewer)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(func=_add)
    listing = actions.add_parser("list", help="list accounts", description="List accounts.")
    add_json_option(listing)
    listing.set_defaults(func=_list)
    disable = actions.add_parser("disable", help="stop an account from logging in",
                                 description="Stop an account from logging in.")
    enable = actions.add_parser("enable", help="let a disabled account log in again",
                                description="Let a disabled account log in again.")
    for action, disabled in ((disable, True), (enable, False)):
        action.add_argument("username", help="login name")
        action.set_defaults(func=_set_disabled(disabled))
    for action in (add, listing, disable, enable):
        action.add_argument("--db", metavar="URL|PATH",
                            help="case store: SQLAlchemy URL or SQLite file path "
                            "(default from config)")
