"""`verifier audit`: check the audit log's MAC chain (against a checkpoint kept elsewhere) and
every case's decision columns against what was authenticated, export such a checkpoint,
accept once a log begun before the chain was keyed, or list the entries."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json

if TYPE_CHECKING:
    from verifier.cases.audit import Checkpoint


def _read_checkpoint(path: Path) -> Checkpoint:
    from verifier.cases.audit import Checkpoint

    try:
        return Checkpoint.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"checkpoint {path} is unreadable: {exc}") from None


def _verify(args: argparse.Namespace) -> int:
    from verifier.cases.decision_check import check_decisions
    from verifier.cases.store import open_store

    checkpoint = _read_checkpoint(args.checkpoint) if args.checkpoint else None
    store = open_store(config_from(args))
    check = store.audit.verify(checkpoint)
    decisions = check_decisions(store)
    write_json(args.json, {**check.to_dict(), "ok": check.ok and decisions.ok,
                           "chain_ok": check.ok, "cases_checked": decisions.cases,
                           "tampered_cases": [t.to_dict() for t in decisions.tampered]})
    if check.ok:
        print(f"audit log intact: {check.entries} entries, head {check.head_hash}",
              file=sys.stderr)
        if check.unauthenticated_through:
            print(f"  entries 1-{check.unauthenticated_through} predate the keyed chain: "
                  "they were accepted unauthenticated (`audit rechain`), not verified",
                  file=sys.stderr)
    else:
        where = "" if check.first_broken_seq is None else f" at entry {check.first_broken_seq}"
        print(f"audit log BROKEN{where}: {check.problem}", file=sys.stderr)
    for t in decisions.tampered:
        print(f"case {t.case_id} TAMPERED: {t.problem}", file=sys.stderr)
    if decisions.ok:
        print(f"{decisions.cases} cases: decision, flags and reviews agree with the sealed "
              "verdicts and the audit log", file=sys.stderr)
    return 0 if check.ok and decisions.ok else 1


def _rechain(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    entry = open_store(config_from(args)).audit.rechain(args.accept_unauthenticated_through)
    print(f"audit log MACed under the active key; entries 1-{args.accept_unauthenticated_through}"
          f" recorded as unauthenticated before {entry.at} (entry {entry.seq})", file=sys.stderr)
    write_json(args.json, entry.to_dict())
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    point = open_store(config_from(args)).audit.checkpoint()
    write_json(args.out, point.to_dict())
    print(f"checkpoint: {point.entries} entries, content {point.content_digest}, MACed with "
          f"key {point.key_id}; keep it away from the database (`audit verify --checkpoint`)",
          file=sys.stderr)
    return 0


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
    p = sub.add_parser("audit",
                       help="check, checkpoint, rechain or list the MAC-chained audit log",
                       description="The audit log records every decision and every view of "
                       "evidence, each entry chained to the one before by an HMAC-SHA256 "
                       "keyed from the evidence key.")
    actions = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check the whole chain; exit 1 naming the first broken entry",
        description="Recompute every entry's MAC and link, and check every case's decision, "
        "flags and review decision against its sealed verdict and the log. Exit status 0 "
        "when intact, 1 when an entry was altered, inserted or removed (the first one is "
        "named), when the log no longer holds what a --checkpoint counted, or when a case's "
        "decision columns were changed (each such case is named).")
    verify.add_argument("--checkpoint", type=Path, metavar="FILE",
                        help="a checkpoint from `audit checkpoint`: detects truncation and "
                        "rewriting behind it")
    checkpoint = actions.add_parser(
        "checkpoint", help="export the log's head (entry count and digest), MACed",
        description="Write a MACed checkpoint of the audit log (entry count and a digest "
        "of its content) to keep elsewhere, e.g. printed in the daily report.")
    checkpoint.add_argument("--out", required=True, metavar="PATH",
                            help="where to write the checkpoint JSON ('-' for standard output)")
    show = actions.add_parser("show", help="list entries, newest first",
                              description="List audit entries, newest first.")
    show.add_argument("--case", metavar="CASE_ID", help="only entries about this case")
    show.add_argument("--limit", type=int, default=50, help="at most this many entries (50)")
    rechain = actions.add_parser(
        "rechain", help="accept, once, entries written before the chain was keyed",
        description="A log begun before the audit chain was keyed holds plain SHA-256 "
        "links, which anyone with write access can recompute (`audit verify` names them). "
        "This MACs the whole log under the active evidence key and appends an entry "
        "recording that entries 1-N were not authenticated before now; `audit verify` "
        "reports them so from then on. N must be exactly the plain entries' count.")
    rechain.add_argument("--accept-unauthenticated-through", type=int, required=True,
                         metavar="N", help="the last plain entry, as `audit verify` names it")
    for action, func in ((verify, _verify), (checkpoint, _checkpoint), (show, _show),
                         (rechain, _rechain)):
        action.add_argument("--db", metavar="URL|PATH",
                            help="case store: SQLAlchemy URL or SQLite file path "
                            "(default from config)")
        if action is not checkpoint:
            add_json_option(action)
        action.set_defaults(func=func)
