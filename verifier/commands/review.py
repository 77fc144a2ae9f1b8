"""`verifier review --listen HOST:PORT`: the audit review web page, on waitress."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
from typing import Any, NoReturn

from verifier.commands.common import config_from

THREADS = 8  # a handful of reviewers; every request is short (scrypt at sign-in the longest)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from waitress import create_server

    from verifier.cases.store import open_store
    from verifier.review.app import create_app

    config = config_from(args)
    listen = args.listen or config.cases.review_listen
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT, got {listen!r}")
    proxy = args.behind_proxy
    if not _loopback(host) and not proxy:
        # waitress speaks no TLS: passwords and evidence would cross the network in clear.
        raise ValueError(f"refusing to serve plain HTTP on {host}: listen on 127.0.0.1, or "
                         "put a TLS reverse proxy in front and pass --behind-proxy ITS_ADDRESS "
                         "(README: the review page)")
    store = open_store(config)
    app = create_app(store, config, require_tls=bool(proxy))
    # Behind the proxy, its X-Forwarded-For (the client address, which sign-in throttles on)
    # and X-Forwarded-Proto (https: Secure cookies, HSTS) are trusted from it alone.
    proxy_options: dict[str, Any] = dict(
        trusted_proxy=proxy, trusted_proxy_count=1,
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        clear_untrusted_proxy_headers=True) if proxy else {}
    server = create_server(app, host=host, port=int(port), threads=THREADS, ident="verifier",
                           **proxy_options)
    scheme = "https (through the proxy)" if proxy else "http"
    print(f"review page on {scheme} {host}:{server.effective_port}/", file=sys.stderr,
          flush=True)

    def stop(*_: Any) -> NoReturn:
        raise SystemExit  # waitress's run() ends its loop and worker threads on it

    signal.signal(signal.SIGTERM, stop)
    server.run()
    store.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("review", help="serve the audit review web page",
                       description="Serve the review page (waitress): officers sign in "
                       "(accounts from `verifier users add`, TOTP from `verifier users totp`), "
                       "see the queue of REVIEW and FAIL cases, open a case with its evidence "
                       "side by side and record a decision with a reason. Every view of "
                       "evidence and every decision is audited. Plain HTTP is served on "
                       "loopback only; anywhere else put a TLS reverse proxy in front.")
    s.add_argument("--listen", metavar="HOST:PORT",
                   help="address to serve on (default from config: 127.0.0.1:8080; port 0 "
                   "picks a free one)")
    s.add_argument("--behind-proxy", metavar="PROXY_ADDRESS",
                   help="a TLS reverse proxy at this address forwards to us: trust its "
                   "X-Forwarded-For/-Proto, refuse requests that did not come over HTTPS, and "
                   "allow listening off loopback")
    s.add_argument("--db", metavar="URL|PATH",
                   help="case store: SQLAlchemy URL or SQLite file path (default from config)")
    s.set_defaults(func=run)
