"""The nginx configuration for gRPC load balancing over verifier replicas, from
deploy/nginx/verifier-grpc.conf.template (deploy/README.md explains the design).

    python tools/nginx_conf.py --pki /secure/pki --proxy lb-1 --listen 0.0.0.0:443 \\
        --replica 10.0.0.11:50051 --replica 10.0.0.12:50051 --upstream-name verifier.lebong.lan \\
        --run-dir /var/lib/verifier-lb --out /etc/nginx/verifier-grpc.conf --check

Station certificates are verified by nginx and forwarded to the replicas in `x-client-cert`;
nginx connects to the replicas with its proxy certificate (`verifier pki issue DIR --proxy
NAME`), the only one whose forwarded certificate a replica believes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx" / "verifier-grpc.conf.template"
NGINX = Path("/usr/sbin/nginx")
# Anything nginx would read as syntax (`;`, braces, quotes, `$`, spaces) has no place in a
# host, name or path handed to the template.
_SAFE = re.compile(r"^[A-Za-z0-9_.:/\[\]@+=,-]+$")


@dataclass(frozen=True)
class ProxySite:
    listen: str  # HOST:PORT stations connect to
    replicas: tuple[str, ...]  # HOST:PORT of each verifier replica (mutual TLS)
    server_cert: Path  # the certificate stations see (names the address they dial)
    server_key: Path
    client_ca: Path  # the verifier CA: signs stations', replicas' and the proxy's certificates
    crl: Path
    proxy_cert: Path  # `verifier pki issue DIR --proxy NAME`
    proxy_key: Path
    upstream_name: str  # a name in the replicas' server certificate
    run_dir: Path  # pid, logs, temporary files
    server_name: str = "_"
    # Above the verifiers' [server] session_idle_timeout_s (300).
    stream_timeout_s: int = 330
    connect_timeout_s: int = 2
    max_fails: int = 1
    fail_timeout_s: int = 10
    worker_processes: int = 1

    @classmethod
    def from_pki(cls, pki: Path, proxy: str, **kwargs: object) -> ProxySite:
        """The files `verifier pki init` and `pki issue --proxy NAME` wrote in `pki`."""
        from verifier.pki.authority import CA_CERT, CRL, PROXIES, SERVER_CERT, SERVER_KEY

        return cls(server_cert=pki / SERVER_CERT, server_key=pki / SERVER_KEY,
                   client_ca=pki / CA_CERT, crl=pki / CRL,
                   proxy_cert=pki / PROXIES / f"{proxy}.pem",
                   proxy_key=pki / PROXIES / f"{proxy}.key", **kwargs)  # type: ignore[arg-type]


def _safe(what: str, value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"{what} {value!r} may hold only letters, digits and _ . : / [ ] @ + "
                         "= , - (no spaces, quotes, ; { } or $)")
    return value


def _address(what: str, value: str) -> str:
    host, sep, port = _safe(what, value).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what} {value!r} is not HOST:PORT")
    return value


def render(site: ProxySite) -> str:
    """The nginx.conf text; ValueError naming the first bad setting."""
    if not site.replicas:
        raise ValueError("give at least one replica (--replica HOST:PORT)")
    for name in ("stream_timeout_s", "connect_timeout_s", "max_fails", "fail_timeout_s",
                 "worker_processes"):
        if getattr(site, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    files = {name: _safe(name, str(getattr(site, name).resolve()))
             for name in ("server_cert", "server_key", "client_ca", "crl", "proxy_cert",
                          "proxy_key", "run_dir")}
    servers = "\n".join(
        f"        server {_address('replica', r)} max_fails={site.max_fails} "
        f"fail_timeout={site.fail_timeout_s}s;" for r in site.replicas)
    return Template(TEMPLATE.read_text()).substitute(
        files, listen=_address("listen", site.listen),
        server_name=_safe("server_name", site.server_name),
        upstream_name=_safe("upstream_name", site.upstream_name),
        upstream_servers=servers, replica_count=len(site.replicas),
        stream_timeout_s=site.stream_timeout_s, connect_timeout_s=site.connect_timeout_s,
        worker_processes=site.worker_processes)


def write(site: ProxySite, out: Path) -> Path:
    """Render into `out` and create the run directory nginx writes into."""
    site.run_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(render(site))
    return out


def check(conf: Path, run_dir: Path, nginx: Path = NGINX) -> None:
    """`nginx -t` on the file; ValueError with nginx's own message when it is refused."""
    run = run_dir.resolve()
    done = subprocess.run([str(nginx), "-t", "-q", "-c", str(conf.resolve()), "-p", str(run),
                           "-e", str(run / "error.log")], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        raise ValueError(f"nginx -t refused {conf}: {(done.stderr or done.stdout).strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pki", type=Path, required=True,
                        help="the `verifier pki` directory (ca.pem, server.*, crl.pem, proxies/)")
    parser.add_argument("--proxy", required=True, metavar="NAME",
                        help="the proxy certificate's name (`verifier pki issue --proxy NAME`)")
    parser.add_argument("--listen", required=True, metavar="HOST:PORT")
    parser.add_argument("--replica", action="append", required=True, metavar="HOST:PORT")
    parser.add_argument("--upstream-name", required=True,
                        help="a name in the replicas' server certificate")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="run `nginx -t` on the result")
    args = parser.parse_args(argv)
    try:
        site = ProxySite.from_pki(args.pki, args.proxy, listen=args.listen,
                                  replicas=tuple(args.replica),
                                  upstream_name=args.upstream_name,
                                  server_name=args.server_name, run_dir=args.run_dir)
        write(site, args.out)
        if args.check:
            check(args.out, args.run_dir)
    except (ValueError, OSError) as exc:
        print(f"nginx_conf: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}" + (" (nginx -t: ok)" if args.check else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
