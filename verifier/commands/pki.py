"""`verifier pki`: the certificate authority for mutual TLS between stations and verifier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from verifier.commands.common import add_json_option
from verifier.jsonout import write_json


def _init(args: argparse.Namespace) -> int:
    from verifier.pki.authority import CA_CERT, CRL, init_authority

    d = args.dir.resolve()  # the printed configuration must work from any directory
    server = init_authority(d, args.host)
    print(f"created CA {d / CA_CERT} and server certificate {server.cert_file} for "
          f"{', '.join(args.host)}.\nVerifier configuration:\n  [server]\n"
          f'  tls_cert_file = "{server.cert_file}"\n  tls_key_file = "{server.key_file}"\n'
          f'  client_ca_file = "{d / CA_CERT}"\n  crl_file = "{d / CRL}"', file=sys.stderr)
    write_json(args.json, {"ca_file": str(d / CA_CERT), "crl_file": str(d / CRL),
                           "server_cert_file": str(server.cert_file),
                           "server_key_file": str(server.key_file)})
    return 0


def _issue(args: argparse.Namespace) -> int:
    from verifier.pki.authority import CA_CERT, issue_precheck_client, issue_proxy, issue_station

    if args.station_id is not None:
        issued = issue_station(args.dir, args.station_id)
        use = (f"On the station: capture-station run --tls-ca {args.dir / CA_CERT} "
               f"--tls-cert {issued.cert_file} --tls-key {issued.key_file} ...")
        kind, key = "station", "station_id"
    elif args.proxy is not None:
        issued = issue_proxy(args.dir, args.proxy)
        use = ("The proxy's client certificate towards the verifiers: "
               f"`python tools/nginx_conf.py --pki {args.dir} --proxy {issued.subject} ...` "
               "(deploy/README.md)")
        kind, key = "proxy", "proxy"
    else:
        issued = issue_precheck_client(args.dir, args.precheck_client)
        use = (f"The client calls PrecheckService only, with CA {args.dir / CA_CERT}, this "
               "certificate and key")
        kind, key = "precheck client", "precheck_client"
    print(f"{kind} {issued.subject}: certificate {issued.cert_file} (serial "
          f"{issued.serial:x}, valid until {issued.not_after:%Y-%m-%d}), key {issued.key_file}"
          f"\n{use}", file=sys.stderr)
    write_json(args.json, {key: issued.subject, "serial": f"{issued.serial:x}",
                           "cert_file": str(issued.cert_file),
                           "key_file": str(issued.key_file),
                           "not_after": issued.not_after.isoformat()})
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from verifier.pki.authority import revoke

    serial = int(args.serial, 16) if args.serial else None
    done = revoke(args.dir, station_id=args.station_id,
                  precheck_client=args.precheck_client, proxy=args.proxy, serial=serial)
    print(f"revoked serial {done.serial:x}; {done.crl_file} now lists {done.revoked_count} "
          "certificate(s). Verifiers re-read it when it changes: copy it to each one's "
          "[server] crl_file.", file=sys.stderr)
    write_json(args.json, {"serial": f"{done.serial:x}", "client": done.client,
                           "crl_file": str(done.crl_file), "revoked_count": done.revoked_count})
    return 0


def _hex_serial(value: str) -> str:
    try:
        int(value, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a hexadecimal serial") from None
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pki", help="certificates for mutual TLS with stations and precheck "
                       "clients",
                       description="A small certificate authority (P-256) in a directory: "
                       "the verifier's server certificate, one client certificate per "
                       "capture station (its id in the subject) or precheck client, and a "
                       "revocation list.")
    actions = p.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create the CA and the server certificate",
                              description="Create DIR with a new CA, a server certificate "
                              "for the given names and an empty revocation list.")
    init.add_argument("--host", action="append", required=True, metavar="NAME",
                      help="a DNS name or IP address stations use to reach the verifier "
                      "(repeat for several; the first is the subject)")
    init.set_defaults(func=_init)
    issue = actions.add_parser("issue", help="issue a station's, precheck client's or "
                               "proxy's certificate",
                               description="Issue a client certificate naming a capture "
                               "station (CaptureService and PrecheckService) or a precheck "
                               "client (PrecheckService only).")
    whom = issue.add_mutually_exclusive_group(required=True)
    whom.add_argument("--station-id", metavar="ID",
                      help="the station's id (1-64 of A-Z a-z 0-9 _ . -)")
    whom.add_argument("--precheck-client", metavar="NAME",
                      help="a PrecheckService client, e.g. the upload portal (1-64 of "
                      "A-Z a-z 0-9 _ . -)")
    whom.add_argument("--proxy", metavar="NAME",
                      help="a gRPC proxy in front of several verifiers: it forwards the "
                      "station certificates it verified (deploy/README.md)")
    issue.set_defaults(func=_issue)
    revoke = actions.add_parser("revoke", help="revoke a client certificate",
                                description="Add a certificate to the revocation list.")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--station-id", metavar="ID", help="the station's current certificate")
    which.add_argument("--precheck-client", metavar="NAME",
                       help="the precheck client's current certificate")
    which.add_argument("--proxy", metavar="NAME", help="the proxy's current certificate")
    which.add_argument("--serial", type=_hex_serial, metavar="HEX",
                       help="any certificate of this CA, by serial number")
    revoke.set_defaults(func=_revoke)
    for action in (init, issue, revoke):
        action.add_argument("dir", type=Path, metavar="DIR", help="the CA directory")
        add_json_option(action)
