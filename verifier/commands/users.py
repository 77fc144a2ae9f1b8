"""`verifier users`: accounts of the review page and of officers at the stations (passwords
stored as scrypt hashes, TOTP secrets sealed with the evidence keys)."""

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


def _totp(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    uri = open_store(config_from(args)).sign_ins.enrol_totp(args.username)
    # Shown once, never stored in clear: enrol it (paste it, or make it a QR code) now.
    print(uri)
    print(f"user {args.username}: enter this in an authenticator app now; it is not shown "
          "again (running this again replaces it)", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    users = open_store(config_from(args)).users()
    for u in users:
        print(f"{u['username']:<24} {u['role']:<10} "
              f"{'disabled' if u['disabled'] else 'enabled'}", file=sys.stderr)
    write_json(args.json, users)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="review-page and officer accounts",
                       description="Create, list, disable and enable accounts of the review "
                       "page and of station officers; enrol their TOTP second factor.")
    actions = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account",
                             description="Create an account; the password is asked for twice "
                             "on a terminal, or read as one line with --password-stdin.")
    add.add_argument("username", help="login name (letters, digits, '-', '_', '.')")
    add.add_argument("--role", choices=ROLES, default="reviewer",
                     help="reviewer: may decide cases; auditor: may only look; officer: "
                     "signs in at a capture station (reviewer)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(func=_add)
    listing = actions.add_parser("list", help="list accounts", description="List accounts.")
    add_json_option(listing)
    listing.set_defaults(func=_list)
    disable = actions.add_parser("disable", help="stop an account from logging in",
                                 description="Stop an account from signing in; its open "
                                 "sessions end at their next request.")
    enable = actions.add_parser("enable", help="let a disabled account log in again",
                                description="Let a disabled account log in again.")
    for action, disabled in ((disable, True), (enable, False)):
        action.add_argument("username", help="login name")
        action.set_defaults(func=_set_disabled(disabled))
    totp = actions.add_parser("totp", help="enrol a TOTP second factor",
                              description="Give the account a new TOTP secret (RFC 6238, 30 s, "
                              "6 digits) and print its otpauth:// URI once, for an "
                              "authenticator app. Replaces any earlier secret.")
    totp.add_argument("username", help="login name")
    totp.set_defaults(func=_totp)
    for action in (add, listing, disable, enable, totp):
        action.add_argument("--db", metavar="URL|PATH",
                            help="case store: SQLAlchemy URL or SQLite file path "
                            "(default from config)")
