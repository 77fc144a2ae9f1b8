"""`verifier audit`: check the audit log's hash chain, or list its entries."""

from __future__ import annotations

import argparse
import sys

from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json


def _verify(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    store = open_store(config_from(args))
    check = store.audit.verify()
    write_json(args.json, check.to_dict())
    if check.ok:
        print(f"audit log intact: {check.entries} entries, head {check.head_hash}",
              file=sys.stderr)
        return 0
    print(f"audit log BROKEN at entry {check.first_broken_seq}: {check.problem} "
          f"({check.entries - 1} entries before it are intact)", file=sys.stderr)
    return 1


def _show(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    store = open_store(config_from(args))
    entries = store.audit.entries(case_id=args.case, limit=args.limit)
    for e in entries:
        print(f"{e.seq:>7} {e.at} {e.actor:<16} {e.action:<18} {e.case_id} {e.detail}",
              file=sys.stderr)
    write_json(args.json, [e.to_dict() for e in entries])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="check or list the hash-chained audit log",
                       description="The audit log records every decision and every view of "
                       "evidence, each entry chained to the one before by SHA-256.")
    actions = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check the whole chain; exit 1 naming the first broken entry",
        description="Recompute every entry's hash and link. Exit status 0 when intact, 1 "
        "when an entry was altered, inserted or removed (the first one is named).")
    show = actions.add_parser("show", help="list entries, newest first",
                              description="List audit entries, newest first.")
    show.add_argument("--case", metavar="CASE_ID", help="only entries about this case")
    show.add_argument("--limit", type=int, default=50, help="at most this many entries (50)")
    for action, func in ((verify, _verify), (show, _show)):
        action.add_argument("--db", metavar="URL|PATH",
                            help="case store: SQLAlchemy URL or SQLite file path "
                            "(default from config)")
        add_json_option(action)
        action.set_defaults(func=func)
