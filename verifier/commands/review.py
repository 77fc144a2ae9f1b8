"""`verifier review --listen HOST:PORT`: the audit review web page."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from verifier.commands.common import config_from


def run(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from verifier.cases.store import open_store
    from verifier.review.app import create_app

    config = config_from(args)
    listen = args.listen or config.cases.review_listen
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT, got {listen!r}")
    store = open_store(config)
    app = create_app(store, config)
    # Werkzeug's threaded server: enough for the handful of reviewers of an office. Put TLS
    # in front of it (a reverse proxy) when it is reached over a network.
    server = make_server(host.strip("[]"), int(port), app, threaded=True)
    print(f"review page on http://{host}:{server.server_port}/", file=sys.stderr, flush=True)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    store.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("review", help="serve the audit review web page",
                       description="Serve the review page: officers log in (accounts from "
                       "`verifier users add`), see the queue of REVIEW and FAIL cases, open a "
                       "case with its evidence side by side and record a decision with a "
                       "reason. Every view of evidence and every decision is audited.")
    s.add_argument("--listen", metavar="HOST:PORT",
                   help="address to serve on (default from config: 127.0.0.1:8080; port 0 "
                   "picks a free one)")
    s.add_argument("--db", metavar="URL|PATH",
                   help="case store: SQLAlchemy URL or SQLite file path (default from config)")
    s.set_defaults(func=run)
