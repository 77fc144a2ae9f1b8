"""The local cluster test (issue 16): PostgreSQL, nginx and three verifier replicas on this
machine, N capture stations running sessions through nginx; in the middle of the sessions one
replica is killed with SIGKILL and another restarted (SIGTERM, drain, start again).

    uv run python tools/cluster.py                    # 16 stations; writes bench/REPORT-cluster.md
    uv run python tools/cluster.py --stations 4 --report -

Reports sessions, verdicts, messages lost (spooled at a station, never committed) and
duplicated (a sequence or a session committed twice), the longest time a station waited
for the verifier, and the failover time. Everything runs with mutual TLS: stations to nginx,
nginx to the replicas with its proxy certificate (deploy/README.md); officers sign in.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grpc_health.v1 import health_pb2  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.stations import (Inputs, _others_running, _station_result,  # noqa: E402
                            make_inputs, start_station, station_id)
from tests.harness import local_authority, mutual_tls  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tools.nginx_conf import NGINX, ProxySite, check, write  # noqa: E402
from verifier.cases.crypto import generate_ring, write_key_file  # noqa: E402
from verifier.cases.schema import CaseRow, MessageRow  # noqa: E402
from verifier.cases.store import CaseStore, keys_for  # noqa: E402
from verifier.pki.authority import CA_CERT, PROXIES, issue_proxy  # noqa: E402
from lebong_contract.client_tls import ClientTls  # noqa: E402
from lebong_contract.probe import free_port, health_status, wait_serving  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-cluster.md"
# The report's hand-written reading of the numbers, kept on rerun.
KEPT_SECTION = "\n## Reading these numbers"
PASSWORD = "kata-sandi-cluster-2026"
PROXY = "cluster-lb"


@dataclass(frozen=True)
class Plan:
    stations: int = 16
    replicas: int = 3
    max_fps: float = 2.0  # the station's camera rate: few frames a session
    fingers: int = 3  # prints from the folder scanner; the other slots are declared missing
    # Station i starts i * stagger_s after the first: officers do not all sign in (an scrypt
    # hash each) in the same second.
    stagger_s: float = 0.5
    kill_after_s: float = 5.0  # after every session has started: SIGKILL replica 0
    restart_after_s: float = 5.0  # after the kill: SIGTERM replica 1, start it again
    timeout_s: float = 900.0


@dataclass(frozen=True)
class Station:
    client_session_id: str
    exit_code: int
    decision: str | None
    sent: int  # sequences the station spooled
    unacked: int  # still in its spool at the end
    committed: int  # of those, sequences the store holds
    lost: int  # spooled, never committed
    reconnects: int
    finish_to_verdict_s: float | None
    longest_gap_s: float  # longest time between two of its messages being committed


@dataclass(frozen=True)
class Result:
    plan: Plan
    stations: tuple[Station, ...]
    duplicate_sequences: int  # (case, sequence) committed more than once
    duplicate_sessions: int  # client session ids with more than one case
    kill_at: float  # unix time of the SIGKILL
    restart_at: float  # unix time of the SIGTERM
    restarted_serving_s: float  # SIGTERM to the restarted replica SERVING again
    proxy_failover_s: float  # SIGKILL to the first health check answered through nginx
    on_killed: int  # stations whose stream the SIGKILL broke (nginx's access log)
    failover_s: float  # SIGKILL to the slowest of those committing a message again
    wall_s: float
    load_before: float  # 1-minute load average as the stations started
    others: str  # the busiest other processes then (the machine is shared)

    @property
    def verdicts(self) -> int:
        return sum(s.decision is not None for s in self.stations)

    @property
    def lost(self) -> int:
        return sum(s.lost for s in self.stations)

    @property
    def duplicates(self) -> int:
        return self.duplicate_sequences + self.duplicate_sessions


class Replica:
    """`verifier serve` on a fixed port with the cluster's configuration; killable."""

    def __init__(self, index: int, config: Path, work: Path, tls: ClientTls,
                 env: dict[str, str]) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.config, self.log, self.tls, self.env = config, work / f"replica-{index}.log", tls, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "verifier.cli", "--config", str(self.config), "serve",
                 "--listen", self.address], cwd=ROOT, stdout=log, stderr=log, env=self.env)

    def wait_serving(self) -> None:
        wait_serving(self.address, timeout_s=300, tls=self.tls)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _write_config(work: Path, pki: Path, url: str) -> Path:
    key_file = work / "evidence.keys"
    write_key_file(key_file, generate_ring())
    server = {**mutual_tls(pki), "health_store_check_s": 1.0}
    lines = ["[store]", f"url = {json.dumps(url)}", "[server]",
             *(f"{k} = {json.dumps(v)}" for k, v in server.items()),
             "[cases]", f"key_file = {json.dumps(str(key_file))}",
             # Generated prints come from no SBI device.
             "[fingerprint]", "require_device_attestation = false"]
    config = work / "verifier.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def _short_inputs(inputs: Inputs, fingers: int, work: Path) -> Inputs:
    """The bench's inputs with only the first `fingers` prints in the scanner's folder."""
    folder = work / "fingers"
    folder.mkdir(exist_ok=True)
    for path in sorted(inputs.fingers.iterdir())[:fingers]:
        (folder / path.name).write_bytes(path.read_bytes())
    return dataclasses.replace(inputs, fingers=folder)


def officer(i: int) -> str:
    """Station i's officer: one account each, as at a real counter (the per-account sign-in
    throttle counts parallel attempts of one account)."""
    return f"petugas-{i}"


def _spooled(spool: Path) -> tuple[str, int, int]:
    """(client session id, sequences spooled, still unacknowledged) of a station's spool;
    ("", 0, 0) when the station opened no session (its officer's sign-in failed)."""
    if not spool.exists():
        return "", 0, 0
    with sqlite3.connect(spool) as db:
        row = db.execute("SELECT client_session_id, next_sequence FROM sessions").fetchone()
        unacked = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return ("", 0, 0) if row is None else (row[0], int(row[1]) - 1, int(unacked))


def _chaos(replicas: list[Replica], url: str, plan: Plan, proxy: tuple[str, ClientTls],
           marks: dict[str, float], stop: threading.Event) -> None:
    """Once every session has a case: SIGKILL replica 0, time the first health check nginx
    answers after it, then restart replica 1."""
    engine = create_engine(url)
    try:
        while not stop.is_set():
            with engine.connect() as db:
                if db.scalar(select(func.count()).select_from(CaseRow)) >= plan.stations:
                    break
            time.sleep(0.2)
        if stop.wait(plan.kill_after_s):
            return
        marks["kill"] = time.time()
        replicas[0].stop(signal.SIGKILL)
        address, tls = proxy
        while health_status(address, 5.0, tls) != health_pb2.HealthCheckResponse.SERVING:
            time.sleep(0.01)
        marks["proxy_ok"] = time.time()
        if stop.wait(plan.restart_after_s):
            return
        marks["restart"] = time.time()
        replicas[1].stop(signal.SIGTERM)  # drains: health NOT_SERVING, streams closed
        replicas[1].start()
        replicas[1].wait_serving()
        marks["serving"] = time.time()
    finally:
        engine.dispose()


def _committed(url: str) -> tuple[dict[str, list[tuple[int, float]]], int, int]:
    """Per client session its committed (sequence, unix time); duplicate sequences and
    duplicate sessions."""
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            rows = db.execute(select(CaseRow.client_session_id, MessageRow.sequence,
                                     MessageRow.received_at)
                              .join(MessageRow, MessageRow.case_id == CaseRow.id)).all()
            dup_sequences = db.scalar(select(func.count()).select_from(
                select(MessageRow.case_id).group_by(MessageRow.case_id, MessageRow.sequence)
                .having(func.count() > 1).subquery()))
            dup_sessions = db.scalar(select(func.count()).select_from(
                select(CaseRow.client_session_id).group_by(CaseRow.client_session_id)
                .having(func.count() > 1).subquery()))
    finally:
        engine.dispose()
    commits: dict[str, list[tuple[int, float]]] = {}
    for sid, sequence, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        commits.setdefault(sid, []).append((sequence, at.timestamp()))
    for values in commits.values():
        values.sort(key=lambda v: v[1])
    return commits, int(dup_sequences or 0), int(dup_sessions or 0)


def _longest_gap(times: list[float]) -> float:
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def _streams_broken(access_log: Path, address: str, kill_at: float) -> set[str]:
    """Subject DNs of the Session streams the replica at `address` was serving when it was
    killed: nginx logs each when it ends, naming the replica that served it last."""
    broken = set()
    for line in access_log.read_text().splitlines():
        parts = line.split('"')
        if len(parts) != 3 or "/Session " not in parts[2]:
            continue
        ended = datetime.fromisoformat(parts[0].split()[0]).timestamp()
        served_by = parts[2].split(" ", 3)[3].rsplit(" ", 1)[0].split(", ")[-1]
        if served_by == address and kill_at - 1.0 <= ended <= kill_at + 5.0:
            broken.add(parts[1])
    return broken


def _failover(commits: dict[str, list[tuple[int, float]]], kill_at: float,
              broken: set[str]) -> float:
    """SIGKILL to the first commit after it, for the slowest session whose stream broke."""
    after = [min((t for _, t in commits.get(sid, []) if t > kill_at), default=kill_at)
             for sid in broken]
    return max((t - kill_at for t in after), default=0.0)


def run_cluster(plan: Plan, work: Path) -> Result:
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_THREAD_LIMIT="1")
    ids = [station_id(i) for i in range(plan.stations)]
    pki = local_authority(work / "pki", ids)
    issue_proxy(pki, PROXY)
    proxy_tls = ClientTls(pki / CA_CERT, pki / PROXIES / f"{PROXY}.pem",
                          pki / PROXIES / f"{PROXY}.key")
    inputs = _short_inputs(make_inputs(work / "inputs"), plan.fingers, work)
    (work / "officer.password").write_text(PASSWORD + "\n")
    postgres = PostgresServer()
    replicas: list[Replica] = []
    nginx: subprocess.Popen[bytes] | None = None
    stations: list[subprocess.Popen[bytes]] = []
    marks: dict[str, float] = {}
    stop = threading.Event()
    try:
        url = postgres.new_database()
        config = _write_config(work, pki, url)
        # The officers' accounts (opening the store migrates the new database first).
        store = CaseStore(url, keys_for(url, str(work / "evidence.keys")))
        for i in range(plan.stations):
            store.add_user(officer(i), PASSWORD, "officer")
        store.close()
        replicas = [Replica(i, config, work, proxy_tls, env) for i in range(plan.replicas)]
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_serving()
        site = ProxySite.from_pki(pki, PROXY, listen=f"127.0.0.1:{free_port()}",
                                  replicas=tuple(r.address for r in replicas),
                                  upstream_name="localhost", run_dir=work / "nginx")
        conf = write(site, work / "nginx.conf")
        check(conf, site.run_dir)
        nginx = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(site.run_dir),
                                  "-e", str(site.run_dir / "error.log"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_serving(site.listen, timeout_s=30, tls=proxy_tls)
        chaos = threading.Thread(target=_chaos, args=(
            replicas, url, plan, (site.listen, proxy_tls), marks, stop), daemon=True)
        load_before, others = os.getloadavg()[0], _others_running()
        t0 = time.monotonic()
        chaos.start()
        for i in range(plan.stations):
            time.sleep(max(0.0, t0 + i * plan.stagger_s - time.monotonic()))
            tls = ("--tls-ca", str(pki / CA_CERT),
                   "--tls-cert", str(pki / "stations" / f"{ids[i]}.pem"),
                   "--tls-key", str(pki / "stations" / f"{ids[i]}.key"),
                   "--officer", officer(i),
                   "--officer-password-file", str(work / "officer.password"))
            stations.append(start_station(site.listen, inputs, work, i, env,
                                          max_fps=plan.max_fps, documents=("ktp",),
                                          extra=tls))
        deadline = t0 + plan.timeout_s
        while any(s.poll() is None for s in stations) and time.monotonic() < deadline:
            time.sleep(0.5)
        wall_s = time.monotonic() - t0
        stop.set()
        chaos.join(310)
        commits, dup_sequences, dup_sessions = _committed(url)
    finally:
        stop.set()
        for s in stations:
            if s.poll() is None:
                s.kill()
                s.wait()
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(30)
        for replica in replicas:
            replica.stop()
        postgres.stop()
    results = []
    for i, proc in enumerate(stations):
        report = _station_result(proc.returncode, work / f"report-{i}.json")
        sid, sent, unacked = _spooled(work / f"spool-{i}.sqlite3")
        have = {sequence for sequence, _ in commits.get(sid, [])}
        reconnects = (json.loads((work / f"report-{i}.json").read_text())["reconnects"]
                      if (work / f"report-{i}.json").exists() else -1)
        results.append(Station(
            sid, proc.returncode, report.decision, sent, unacked,
            len(have & set(range(1, sent + 1))),
            len(set(range(1, sent + 1)) - have), reconnects, report.finish_to_verdict_s,
            _longest_gap([t for _, t in commits.get(sid, [])])))
    kill_at = marks.get("kill", 0.0)
    on_killed = _streams_broken(site.run_dir / "access.log", replicas[0].address, kill_at)
    broken = {s.client_session_id for i, s in enumerate(results)
              if f"CN={ids[i]}" in on_killed}
    return Result(plan, tuple(results), dup_sequences, dup_sessions, kill_at,
                  marks.get("restart", 0.0),
                  marks.get("serving", 0.0) - marks.get("restart", 0.0)
                  if "serving" in marks else -1.0,
                  marks.get("proxy_ok", kill_at) - kill_at, len(broken),
                  _failover(commits, kill_at, broken) if kill_at else -1.0, wall_s,
                  load_before, others)


def report(result: Result) -> str:
    p = result.plan
    s = result.stations
    f2v = [x.finish_to_verdict_s for x in s if x.finish_to_verdict_s is not None]
    decisions: dict[str, int] = {}
    for x in s:
        decisions[x.decision or "none"] = decisions.get(x.decision or "none", 0) + 1

    def at(unix: float) -> str:
        return datetime.fromtimestamp(unix, timezone.utc).strftime("%H:%M:%S") if unix else "never"

    rows = [f"| {i} | {x.decision or 'none'} | {x.exit_code} | {x.sent} | {x.committed} | "
            f"{x.lost} | {x.reconnects} | {x.longest_gap_s:.1f} | "
            f"{'n/a' if x.finish_to_verdict_s is None else f'{x.finish_to_verdict_s:.1f}'} |"
            for i, x in enumerate(s)]
    return "\n".join([
        "# Local cluster: three verifier replicas behind nginx, one killed mid-session",
        "",
        f"Produced by `uv run python tools/cluster.py --stations {p.stations}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine {platform.machine()}, "
        f"{os.cpu_count()} cores, shared: 1-minute load {result.load_before:.1f} as the "
        f"stations started, {os.getloadavg()[0]:.1f} at the end; other processes then: "
        f"{result.others}.",
        "",
        "Configuration: PostgreSQL (Debian, throw-away), one nginx (`deploy/nginx`, "
        f"least_conn, mutual TLS both sides), {p.replicas} `verifier serve` replicas (default "
        "configuration, `health_store_check_s` 1) sharing the database and the evidence key; "
        f"{p.stations} `capture-station run` processes started {p.stagger_s:g} s apart "
        f"(bench/stations.py's driver), each signing its own officer in through nginx "
        f"(mutual TLS, password) and sending the demo's video at "
        f"{p.max_fps:g} frames/s (6 s), one KTP, {p.fingers} generated prints from a folder "
        "and the other slots declared missing. Once every session had a case, "
        f"{p.kill_after_s:g} s later replica 0 got SIGKILL; {p.restart_after_s:g} s after "
        "that replica 1 got SIGTERM (graceful drain) and was started again.",
        "",
        "Definitions: *lost*: a sequence a station spooled that the store never committed; "
        "*duplicates*: a (case, sequence) or a client session committed more than once; "
        "*longest wait*: the longest time between two commits of one station's messages "
        "(store time stamps), and Finish-to-verdict as the station measured it; *proxy "
        "failover*: SIGKILL to the first health check answered through nginx; *station "
        "failover*: SIGKILL to the first commit after it, for the slowest of the stations "
        "whose stream the killed replica was serving (nginx's access log); it includes the "
        "station's back-off and the queue on the surviving replicas.",
        "",
        "## Result",
        "",
        f"- sessions: {len(s)}; verdicts: **{result.verdicts} of {len(s)}** "
        f"({', '.join(f'{k} {v}' for k, v in sorted(decisions.items()))})",
        f"- messages lost: **{result.lost}** of {sum(x.sent for x in s)} spooled; "
        f"duplicates: **{result.duplicates}** ({result.duplicate_sequences} sequences, "
        f"{result.duplicate_sessions} sessions); left unacknowledged in spools: "
        f"{sum(x.unacked for x in s)}",
        f"- stations that reconnected: {sum(x.reconnects > 0 for x in s)} "
        f"({sum(max(x.reconnects, 0) for x in s)} reconnects)",
        f"- longest wait between commits: **{max((x.longest_gap_s for x in s), default=0):.1f} s**;"
        f" Finish to verdict max {max(f2v, default=0):.1f} s"
        + (f", median {sorted(f2v)[len(f2v) // 2]:.1f} s" if f2v else ""),
        f"- SIGKILL at {at(result.kill_at)}: {result.on_killed} stations' streams broken; "
        f"proxy failover {result.proxy_failover_s:.2f} s, station failover "
        f"**{result.failover_s:.1f} s**; SIGTERM "
        f"at {at(result.restart_at)}, restarted replica SERVING after "
        f"{result.restarted_serving_s:.1f} s",
        f"- run wall time: {result.wall_s:.0f} s",
        "",
        "| station | verdict | exit | spooled | committed | lost | reconnects | "
        "longest wait s | Finish to verdict s |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=Plan.stations)
    parser.add_argument("--kill-after-s", type=float, default=Plan.kill_after_s)
    parser.add_argument("--restart-after-s", type=float, default=Plan.restart_after_s)
    parser.add_argument("--report", default=str(REPORT), help="path, or - for standard output")
    args = parser.parse_args()
    if args.stations < 1:
        parser.error("--stations must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="cluster-"))
    result = run_cluster(Plan(stations=args.stations, kill_after_s=args.kill_after_s,
                              restart_after_s=args.restart_after_s), work)
    text = report(result)
    if args.report == "-":
        print(text)
    else:
        path = Path(args.report)
        old = path.read_text() if path.exists() else ""
        path.write_text(text + (old[old.index(KEPT_SECTION):] if KEPT_SECTION in old else ""))
        print(f"[cluster] report written to {args.report}; work files in {work}")
    ok = result.lost == 0 and result.duplicates == 0 and result.verdicts == len(result.stations)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
