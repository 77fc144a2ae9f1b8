"""`verifier serve`: the gRPC server."""

from __future__ import annotations

import argparse
import asyncio
import signal

from verifier.commands.common import config_from


def run(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store
    from verifier.server.app import serve

    config = config_from(args)
    store = open_store(config)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(config, store, config.server.listen, stop, args.insecure)

    return asyncio.run(main())


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="run the gRPC server (capture sessions, pre-checks, health)",
                       description="Run the gRPC server. Health is NOT_SERVING until every "
                       "model is verified and loaded; SIGTERM/SIGINT shut it down gracefully.")
    s.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default from config: 127.0.0.1:50051)")
    s.add_argument("--db", metavar="URL|PATH",
                   help="case store: SQLAlchemy URL or SQLite file path "
                   "(default sqlite:///verifier-cases.sqlite3)")
    s.add_argument("--insecure", action="store_true",
                   help="allow plain text on a non-loopback address (logged as a warning); "
                   "without it, listening off loopback needs [server] TLS settings")
    s.set_defaults(func=run)
