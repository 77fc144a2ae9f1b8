"""`verifier retention purge`: remove evidence older than the retention period."""

from __future__ import annotations

import argparse
import sys

from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json


def _purge(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store
    from verifier.galleries.retention import purge_galleries

    config = config_from(args)
    days = args.older_than_days if args.older_than_days is not None \
        else config.cases.retention_days
    store = open_store(config)
    report = store.purge_evidence(days, dry_run=args.dry_run)
    # The store knows nothing of the galleries; their rows of purged cases go here.
    galleries = purge_galleries(store.engine, report.cutoff, dry_run=args.dry_run)
    data = dict(report.to_dict(), dry_run=args.dry_run, older_than_days=days,
                gallery_faces_removed=galleries.face_entries,
                gallery_fingers_removed=galleries.fingerprint_entries)
    print(f"{'would purge' if args.dry_run else 'purged'} evidence of {report.cases} cases "
          f"started before {report.cutoff:%Y-%m-%d %H:%M} UTC: {report.payloads_removed} "
          f"images, {report.templates_removed} template records, "
          f"{galleries.face_entries} gallery faces, {galleries.fingerprint_entries} gallery "
          "fingers", file=sys.stderr)
    write_json(args.json, data)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retention", help="purge evidence past the retention period",
                       description="UU PDP 27/2022: personal data is kept only as long as "
                       "needed. Purging removes images and biometric templates (in the case "
                       "and in the duplicate-search galleries); the case, its verdict, the "
                       "fields read and the decisions stay.")
    actions = p.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    purge = actions.add_parser("purge", help="remove old images and templates",
                               description="Remove the images and biometric templates of "
                               "cases started more than the retention period ago.")
    purge.add_argument("--older-than-days", type=int, metavar="DAYS",
                       help="retention period (default from config: [cases].retention_days)")
    purge.add_argument("--dry-run", action="store_true",
                       help="count what would be purged without changing anything")
    purge.add_argument("--db", metavar="URL|PATH",
                       help="case store: SQLAlchemy URL or SQLite file path (default from config)")
    add_json_option(purge)
    purge.set_defaults(func=_purge)
