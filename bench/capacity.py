"""Capacity: per-item costs measured on this machine, the replicas, cores, memory and storage
they imply for an office, a province and the nation, and a scaled-down replay of a peak
hour against one local verifier, its measured latency next to the model's prediction.

    uv run python bench/capacity.py                      # measure, model, replay
    uv run python bench/capacity.py --replay-apps 0      # measure and model only

Protocol.
1. Costs, in process (`CounterSessions`, fresh SQLite store, models loaded once): one session
   to warm up, then `--sessions` complete sessions of the demo applicant (each a new NIK and
   fresh generated fingers): CPU and wall time of every frame, the KTP, a birth certificate,
   every finger and Finish; the rows and bytes the store grew by per case. Then `--history`
   earlier cases are filled into the galleries (bench/finish.py's generator) and the
   fingerprint 1:N search (a ten-finger probe), the face 1:N search and Finish are timed
   against them; 1:1 face is a live frame and the KTP found, embedded and decided
   (`match-faces`' path).
2. Model (bench/capacity_model.py): an application's CPU-seconds from the item costs and a
   stated composition, times the peak-hour arrival rate of each volume, Erlang C for the
   wait, utilisation target 60 %, wait p95 target 5 s.
3. Replay: `verifier serve` in its own process with `--replay-threads` analysis threads (its
   own SQLite store); applications arrive as a Poisson process at the rate that loads those
   threads to `--replay-utilisation` (a peak hour scaled down to what one verifier on this
   machine serves), each on its own gRPC stream sending the replay composition one message at
   a time, the next after the previous one's Ack. Latency: arrival to verdict. First the same
   applications one at a time (the service time the model takes as input), then the arrivals.
4. Prediction for the replay, from its alone times and arrival rate only: Erlang C (an
   application holds a thread from Start to verdict, the sizing's model) and, for
   comparison, processor sharing (every open application's items interleaved).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
from sqlalchemy import create_engine, func, inspect, select, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.capacity_model import (Costs, Plan, Volume, plan,  # noqa: E402
                                  processor_sharing_sojourns, quantile, sojourn_quantile,
                                  squared_cv)
from bench.finish import APPLICATION, fill_history  # noqa: E402
from tests.complete_case import (Session, application, complete_session, finger_png,  # noqa: E402
                                 frame_jpeg, ktp_jpeg)
from tests.images import encode  # noqa: E402
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2  # noqa: E402
from verifier.cases.crypto import generate_ring  # noqa: E402
from verifier.cases.store import CaseStore  # noqa: E402
from verifier.config import load_config  # noqa: E402
from verifier.counter_session import CounterSessions  # noqa: E402
from verifier.face.document_faces import find_face  # noqa: E402
from verifier.face.matching import face_matcher  # noqa: E402
from verifier.galleries.open import open_galleries  # noqa: E402
from verifier.imaging import decode_image  # noqa: E402
from verifier.models import load_models  # noqa: E402
from lebong_contract.probe import free_port, wait_serving  # noqa: E402
from verifier.synthetic.akta import generate_akta  # noqa: E402
from verifier.synthetic.identity import identity_with_nik  # noqa: E402
from verifier.synthetic.minutiae import generated_finger, iso_record  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-capacity.md"
# What one application sends in production (the station bench's demo session: about 30
# frames analysed over the ~6 s of framing, KTP and birth certificate, ten fingers).
PRODUCTION = {"frame": 30, "ktp": 1, "akta": 1, "finger": 10, "finish": 1}
# The replay's application: fewer frames and no birth certificate, so that enough
# applications fit in the time this shared machine gives.
REPLAY = {"frame": 10, "ktp": 1, "akta": 0, "finger": 10, "finish": 1}

# Indonesia issued about 3 million passports a year (the figure) for about 280
# million people: 1.07 applications per 100 residents a year, applied to each area's people.
NATION = Volume("Indonesia", 3_000_000, 50, "the issue's figure: 3 million a year, busiest "
                "hour 50x the year's average hour")
PER_RESIDENT = 3_000_000 / 280_000_000
BENGKULU = Volume("Bengkulu province (10 offices, one gallery)", 2_070_000 * PER_RESIDENT, 50,
                  "2.07 million residents x the national rate; assumed ~10 offices or "
                  "counters' sites sharing one record and gallery")
LEBONG = Volume("Lebong office", 110_000 * PER_RESIDENT, 50,
                "Lebong regency's ~110,000 residents x the national rate (~5 a working day)")
VOLUMES = (LEBONG, BENGKULU, NATION)


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _cost(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, all its threads; wall seconds) of one call. CPU time is
    what a dedicated core would spend; on this shared machine wall time also holds the
    waits for a core."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


@dataclass(frozen=True)
class Measured:
    # Per timed session: (CPU, wall) seconds of each item, per item kind.
    sessions: list[dict[str, list[tuple[float, float]]]]
    db_bytes_per_case: float
    db_rows_per_case: float
    # (CPU, wall) seconds of each call:
    extra: dict[str, list[tuple[float, float]]]  # 1:1 face, 1:N searches, Finish with history
    history: int
    embedding_dim: int

    def items(self, which: int = 0) -> dict[str, list[float]]:
        """Seconds of every timed item per kind: CPU (which=0) or wall (1)."""
        return {k: [t[which] for s in self.sessions for t in s[k]] for k in PRODUCTION}

    def work_s(self, composition: dict[str, int]) -> list[float]:
        """Each session's analysis CPU seconds for `composition` (its first n items a kind)."""
        return [sum(t[0] for k, n in composition.items() for t in s[k][:n])
                for s in self.sessions]


def _akta_jpeg(nik: str) -> bytes:
    person = identity_with_nik(random.Random(7), nik, APPLICATION["full_name"],
                               APPLICATION["place_of_birth"])
    return encode(generate_akta(7, person)[0])


def _store_size(url: str, path: Path) -> tuple[int, int]:
    """(bytes on disk, rows in every table) of a SQLite store."""
    engine = create_engine(url)
    with engine.connect() as db:
        rows = sum(db.execute(select(func.count()).select_from(table(name))).scalar_one()
                   for name in inspect(db).get_table_names())
        # Everything committed into the file itself (the WAL keeps its size once grown).
        db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path.stat().st_size, rows


def measure_costs(sessions_n: int, history: int) -> Measured:
    config = load_config(fingerprint={"require_device_attestation": False})
    models = load_models(config.models_registry)
    timed: list[dict[str, list[tuple[float, float]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.sqlite3"
        url = f"sqlite:///{path}"
        store = CaseStore(url, generate_ring())
        sessions = CounterSessions(store, models, config, open_galleries(store, models, config))
        before = (0, 0)
        for serial in range(sessions_n + 1):  # the first one warms up, untimed
            nik = f"170701450890{serial + 1:04d}"
            sid, seq = str(uuid.uuid4()), 1
            ktp, akta = ktp_jpeg(nik), _akta_jpeg(nik)
            sessions.start(sid, seq, "loket-1", "petugas-7", dict(APPLICATION, nik=nik))
            timing: dict[str, list[tuple[float, float]]] = {k: [] for k in PRODUCTION}
            for _ in range(PRODUCTION["frame"]):
                seq += 1
                timing["frame"].append(_cost(lambda s=seq: sessions.frame(sid, s,
                                                                          frame_jpeg())))
            seq += 1
            timing["ktp"].append(_cost(lambda: sessions.document(sid, seq, "KTP", ktp)))
            seq += 1
            timing["akta"].append(_cost(lambda: sessions.document(sid, seq, "AKTA_KELAHIRAN",
                                                                  akta)))
            for position in range(1, 11):
                seq += 1
                png = finger_png(7000 + 20 * serial + position)
                timing["finger"].append(_cost(
                    lambda s=seq, p=position, d=png: sessions.fingerprint(sid, s, p, 500, d)))
            seq += 1
            timing["finish"].append(_cost(lambda: sessions.finish(sid, seq)))
            if serial == 0:
                before = _store_size(url, path)
            else:
                timed.append(timing)
        after = _store_size(url, path)
        db_bytes = (after[0] - before[0]) / max(1, sessions_n)
        db_rows = (after[1] - before[1]) / max(1, sessions_n)

        # 1:1 face: a live frame and the KTP, each found and embedded, then decided.
        matcher = face_matcher(models, config.face)
        frame_rgb = decode_image(frame_jpeg(), config.imaging).rgb
        ktp_rgb = decode_image(ktp_jpeg(), config.imaging).rgb

        def one_to_one() -> None:
            a, b = find_face(frame_rgb, models, config.face), find_face(ktp_rgb, models,
                                                                         config.face)
            assert a is not None and b is not None
            matcher.decide(a.template.embedding, b.template.embedding,
                           config.face.operating_point)
        face_1to1 = [_cost(one_to_one) for _ in range(5)]

        rng = np.random.default_rng(20261130)
        fill_history(sessions, history, rng)
        galleries = sessions.galleries
        assert galleries is not None
        probe = rng.normal(0.0, 0.09, 128).astype(np.float32)
        galleries.face.search(probe)  # loads what the fill wrote
        face_1toN = [_cost(lambda: galleries.face.search(probe)) for _ in range(20)]
        finger_1toN = []
        for _ in range(10):
            fingers = {p: iso_record(generated_finger(rng)) for p in range(1, 11)}
            finger_1toN.append(_cost(lambda f=fingers: galleries.fingerprints.search_case(f)))
        finish_hist = []
        for serial in range(sessions_n + 2, 2 * sessions_n + 2):  # NIKs not used above
            nik = f"170701450890{serial:04d}"
            s, msgs = complete_session(config.photo.capture.steady_frames,
                                       finger_base=9000 + 20 * serial, nik=nik)
            sid = s.sid
            sessions.start(sid, 1, "loket-1", "petugas-7", dict(APPLICATION, nik=nik))
            seq = 1
            for m in msgs[1:-1]:
                seq = m.sequence
                if m.HasField("frame"):
                    sessions.frame(sid, seq, m.frame.jpeg)
                elif m.HasField("document"):
                    sessions.document(sid, seq, "KTP", m.document.image)
                else:
                    sessions.fingerprint(sid, seq, m.fingerprint.position, 500,
                                         m.fingerprint.image)
            finish_hist.append(_cost(lambda: sessions.finish(sid, seq + 1)))
        store.close()
    return Measured(timed, db_bytes, db_rows, {
        "1:1 face (frame and KTP found, embedded, decided)": face_1to1,
        f"face 1:N search, {history:,} cases (exact numpy)": face_1toN,
        f"fingerprint 1:N search, ten-finger probe, {history:,} cases": finger_1toN,
        f"Finish with {history:,} earlier cases": finish_hist}, history, 128)


def application_cpu_s(m: Measured, composition: dict[str, int]) -> float:
    """Median item CPU costs x how many of each an application sends."""
    return sum(n * statistics.median(m.items()[k]) for k, n in composition.items() if n)


# --- replay --------------------------------------------------------------------------------


class _Station:
    """One application on its own connection and stream, each message sent after the
    previous one's Ack; `run` returns the verdict's decision ("" without one)."""

    def __init__(self, address: str, serial: int, frames: int) -> None:
        self.address = address
        nik = f"170701450890{5000 + serial:04d}"
        s = Session()
        self.msgs = ([s.start(application(nik))] + [s.frame(frame_jpeg()) for _ in range(frames)]
                     + [s.document(ktp_jpeg(nik))]
                     + [s.fingerprint(finger_png(20000 + 20 * serial + p), p) for p in range(1, 11)]
                     + [s.finish()])

    def run(self) -> str:
        outbox: queue.Queue[capture_pb2.StationMessage | None] = queue.Queue()

        def requests() -> Iterator[capture_pb2.StationMessage]:
            while (m := outbox.get()) is not None:
                yield m

        channel = grpc.insecure_channel(self.address)
        replies = capture_pb2_grpc.CaptureServiceStub(channel).Session(requests())
        try:
            for m in self.msgs:
                outbox.put(m)
                for reply in replies:
                    if reply.HasField("verdict"):
                        return types_pb2.Decision.Name(reply.verdict.decision)
                    if reply.HasField("ack") and reply.ack.sequence == m.sequence and \
                            not m.HasField("finish"):
                        break
            return ""
        finally:
            outbox.put(None)
            replies.cancel()
            channel.close()


@dataclass(frozen=True)
class ReplayResult:
    alone_s: list[float]
    alone_cpu_s: float  # the verifier's CPU seconds per application while alone
    arrival_rate: float
    latencies_s: list[float]
    replay_cpu_s: float  # the verifier's CPU seconds per application under the arrivals
    decisions: list[str]
    wall_s: float
    peak_rss_mib: float | None
    load_avg: tuple[float, float]  # 1-minute load average at the start and the end


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def replay(apps: int, alone: int, threads: int, utilisation: float, frames: int,
           seed: int = 7) -> ReplayResult:
    """`alone` applications one after another, then `apps` Poisson arrivals at the rate
    that loads `threads` to `utilisation` by the alone applications' mean time."""
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "verifier.toml"
        conf.write_text(f"[server]\nanalysis_threads = {threads}\n"
                        "[fingerprint]\nrequire_device_attestation = false\n")
        address = f"127.0.0.1:{free_port()}"
        log = open(Path(tmp) / "verifier.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "verifier.cli", "--config", str(conf), "serve", "--listen",
             address, "--db", str(Path(tmp) / "cases.sqlite3")], cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT)
        try:
            wait_serving(address, timeout_s=300)
            stations = [_Station(address, i, frames) for i in range(alone + apps + 1)]
            stations.pop().run()  # warm-up, untimed
            cpu = _cpu_s(proc.pid)
            alone_s = [_timed(st.run) for st in stations[:alone]]
            alone_cpu = (_cpu_s(proc.pid) - cpu) / alone
            rate = utilisation * threads / statistics.mean(alone_s)
            rng = np.random.default_rng(seed)
            offsets = np.cumsum(rng.exponential(1.0 / rate, apps))
            latencies: list[float] = [0.0] * apps
            decisions: list[str] = [""] * apps
            load_start, cpu = os.getloadavg()[0], _cpu_s(proc.pid)
            t0 = time.perf_counter()

            def arrive(i: int) -> None:
                time.sleep(max(0.0, t0 + offsets[i] - time.perf_counter()))
                arrived = time.perf_counter()
                decisions[i] = stations[alone + i].run()
                latencies[i] = time.perf_counter() - arrived

            workers = [threading.Thread(target=arrive, args=(i,)) for i in range(apps)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wall = time.perf_counter() - t0
            replay_cpu = (_cpu_s(proc.pid) - cpu) / apps
            return ReplayResult(alone_s, alone_cpu, rate, latencies, replay_cpu, decisions,
                                wall, _peak_rss_mib(proc.pid), (load_start, os.getloadavg()[0]))
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()


# --- report --------------------------------------------------------------------------------


def _others_running() -> str:
    out = subprocess.run(["ps", "-eo", "pcpu,args", "--sort=-pcpu"], capture_output=True,
                         text=True).stdout.splitlines()[1:]
    busy = [line.strip() for line in out if float(line.split()[0]) >= 5.0
            and str(os.getpid()) not in line]
    return "; ".join(b[:110] for b in busy[:6]) or "nothing above 5 % CPU"


def _ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.1f}"


@dataclass(frozen=True)
class Prediction:
    ps_p50: float
    ps_p95: float
    fcfs_p50: str  # "n/a" where FCFS at this load would not be stable
    fcfs_p95: str


def predict(threads: int, result: ReplayResult) -> Prediction:
    """The replay's latency percentiles from its alone times and arrival rate alone."""
    shared = processor_sharing_sojourns(threads, result.arrival_rate, result.alone_s)
    try:
        fcfs = [f"{sojourn_quantile(threads, result.arrival_rate, result.alone_s, q):.2f}"
                for q in (0.5, 0.95)]
    except ValueError:
        fcfs = ["n/a (load >= threads)"] * 2
    return Prediction(quantile(shared, 0.5), quantile(shared, 0.95), *fcfs)


def _costs_table(m: Measured) -> list[str]:
    names = {"frame": "live frame analysis (640x480)", "ktp": "KTP read (OCR, NIK, face)",
             "akta": "birth certificate read", "finger": "fingerprint extraction (NFIQ 2, "
             "template, same-finger check)", "finish": "Finish (galleries almost empty)"}
    rows = [(names[k], [(c, w) for s in m.sessions for c, w in s[k]]) for k in PRODUCTION]
    rows += list(m.extra.items())
    lines = ["| item | calls | CPU median ms | CPU p95 ms | wall median ms |",
             "|---|---:|---:|---:|---:|"]
    for name, calls in rows:
        cpu, wall = [c for c, _ in calls], [w for _, w in calls]
        lines.append(f"| {name} | {len(calls)} | {1000 * statistics.median(cpu):.1f} | "
                     f"{1000 * quantile(cpu, 0.95):.1f} | {1000 * statistics.median(wall):.1f} |")
    return lines


def _sizes_table(plans: list[Plan]) -> list[str]:
    lines = ["| scale | a year | peak hour | cores busy at peak | analysis threads | replicas "
             "| wait p95 (s) | application p95 at peak (s) | cases searchable (10 y) | memory "
             "a replica (GiB) | database a year (GiB) | rows a year | face vectors + index "
             "(GiB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in plans:
        lines.append(
            f"| {p.volume.name} | {p.volume.per_year:,.0f} | {p.volume.peak_per_hour:,.0f} | "
            f"{p.cpu_cores_busy:.2f} | {p.analysis_threads} | {p.replicas} | "
            f"{p.wait_p95_s:.2f} | {p.latency_p95_s:.1f} | {p.gallery_cases:,} | "
            f"{p.replica_mib / 1024:.1f} | {p.db_gib_per_year:.1f} | "
            f"{p.db_rows_per_year:,.0f} | {p.vector_gib:.2f} |")
    return lines


def _replay_section(args: argparse.Namespace, r: ReplayResult, pr: Prediction) -> list[str]:
    measured = quantile(r.latencies_s, 0.95)
    fcfs_error = (float(pr.fcfs_p95) - measured) / measured if pr.fcfs_p95[0].isdigit() \
        else math.inf
    ps_error = (pr.ps_p95 - measured) / measured
    decisions = ", ".join(f"{d or 'none'} {r.decisions.count(d)}"
                          for d in sorted(set(r.decisions)))
    return [
        "## Replay against one verifier",
        "",
        f"`verifier serve` with {args.replay_threads} analysis thread(s), SQLite. An "
        f"application: Start, {REPLAY['frame']} frames, KTP, ten fingers, Finish. Alone, one "
        f"after another ({len(r.alone_s)}): mean {statistics.mean(r.alone_s):.2f} s, median "
        f"{statistics.median(r.alone_s):.2f} s, squared CV {squared_cv(r.alone_s):.3f}; the "
        f"verifier spent {r.alone_cpu_s:.2f} CPU-seconds an application alone and "
        f"{r.replay_cpu_s:.2f} under the arrivals. Arrivals: Poisson at "
        f"{3600 * r.arrival_rate:.0f} an hour (utilisation {args.replay_utilisation} of "
        f"{args.replay_threads} thread(s) by the alone mean), {len(r.latencies_s)} "
        f"applications in {r.wall_s:.0f} s; 1-minute load average {r.load_avg[0]:.1f} at the "
        f"start, {r.load_avg[1]:.1f} at the end; verifier peak RSS "
        f"{r.peak_rss_mib or 0:.0f} MiB. Verdicts: {decisions}.",
        "",
        "| arrival to verdict | p50 (s) | p95 (s) | max (s) |",
        "|---|---:|---:|---:|",
        f"| measured | {statistics.median(r.latencies_s):.2f} | {measured:.2f} | "
        f"{max(r.latencies_s):.2f} |",
        f"| model: Erlang C (FCFS: an application holds a thread from Start to verdict; the "
        f"sizing's model) | {pr.fcfs_p50} | {pr.fcfs_p95} | |",
        f"| model: processor sharing (every open application's items interleaved) "
        f"| {pr.ps_p50:.2f} | {pr.ps_p95:.2f} | |",
        "",
        f"Against the measured p95: Erlang C **{100 * fcfs_error:+.0f} %** (target within "
        f"25 %: **{'met' if abs(fcfs_error) <= 0.25 else 'not met'}**); processor sharing "
        f"{100 * ps_error:+.0f} %.",
        "",
    ]


def write_report(args: argparse.Namespace, m: Measured, costs: Costs, plans: list[Plan],
                 result: ReplayResult | None, prediction: Prediction | None,
                 others: list[str]) -> None:
    command = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items())
    volumes = "; ".join(f"{v.name}: {v.per_year:,.0f} a year ({v.basis})" for v in VOLUMES)
    lines = [
        "# Capacity: per-item costs, sizes for an office, a province and the nation, and a "
        "replay",
        "",
        f"Produced by `uv run python bench/capacity.py {command}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Protocol in the script's docstring; the model in bench/capacity_model.py.",
        "",
        "Other processes as each phase started (the machine is shared): " + " | ".join(others),
        "",
        "## Per-item costs, measured in this run",
        "",
        f"In process, {args.sessions} sessions after a warm-up. CPU: the process's CPU time "
        "over the call (all its threads), what a dedicated core spends; wall: elapsed, which "
        "on this shared machine includes waiting for a core. Every item includes its commit "
        "to the case store.",
        "",
        *_costs_table(m),
        "",
        f"Store growth per case (SQLite file after a checkpoint: sealed document images and "
        f"capture, templates, analyses, audit entries; live frames keep their analysis only): "
        f"**{m.db_bytes_per_case / 1024:.0f} KiB** and **{m.db_rows_per_case:.0f} rows**.",
        "",
        "## The model's inputs",
        "",
        f"- One application, {PRODUCTION}: **{costs.cpu_s:.1f} CPU-seconds** (median CPU "
        "cost of each item x count; the spread between sessions, squared coefficient of "
        f"variation {squared_cv(costs.work_samples):.3f}, from each session's sum). 1:1 face "
        "is inside the frame and KTP costs (each item's face is embedded when it arrives), "
        "the 1:N searches inside Finish.",
        f"- A replica: {costs.replica_base_mib:.0f} MiB resident with its models (the "
        "replay's verifier, VmHWM; bench/REPORT-stations-paced.md: 582-651 MiB with 8 "
        f"stations), plus per searchable case {costs.face_bytes_per_case:.0f} B of face "
        f"vector and {costs.finger_bytes_per_case:,.0f} B of fingerprint index "
        "(bench/REPORT-fingerprint-index.md: 2,064 B a finger), which every replica holds.",
        f"- Volumes: {volumes}. The busiest hour is 50 x the year's average hour (8,760 "
        "hours) at every scale; a small office's real peak is set by its counters (8 "
        "counters x ~15 applicants an hour = 120 an hour), so the office row is a floor.",
        "- Targets: analysis threads at most 60 % busy at peak; 95 % of applications wait at "
        "most 5 s for a free thread (Erlang C with the Allen-Cunneen correction); 2 threads "
        "(cores) a replica; at least 2 replicas; galleries and database for 10 years of "
        "cases; the vector index 1.5 x the raw vectors (HNSW, M=16). *Application p95 at "
        "peak*: the analysis time of an application with the threads shared "
        "(processor-sharing simulation), not counting the applicant's own pace.",
        "",
        "## Sizes",
        "",
        *_sizes_table(plans),
        "",
    ]
    if result is not None and prediction is not None:
        lines += _replay_section(args, result, prediction)
    REPORT.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--history", type=int, default=1000,
                        help="earlier cases in the galleries for the 1:N timings")
    parser.add_argument("--replay-apps", type=int, default=40)
    parser.add_argument("--replay-alone", type=int, default=6)
    parser.add_argument("--replay-threads", type=int, default=1)
    parser.add_argument("--replay-utilisation", type=float, default=0.6)
    args = parser.parse_args(argv)
    others = [f"costs: {_others_running()}"]
    m = measure_costs(args.sessions, args.history)
    result = prediction = None
    if args.replay_apps > 0:
        others.append(f"replay: {_others_running()}")
        result = replay(args.replay_apps, args.replay_alone, args.replay_threads,
                        args.replay_utilisation, REPLAY["frame"])
        prediction = predict(args.replay_threads, result)
    costs = Costs(cpu_s=application_cpu_s(m, PRODUCTION),
                  work_samples=tuple(m.work_s(PRODUCTION)),
                  replica_base_mib=(result.peak_rss_mib if result and result.peak_rss_mib
                                    else 650.0),
                  face_bytes_per_case=512, finger_bytes_per_case=10 * 2064,
                  db_bytes_per_case=m.db_bytes_per_case, db_rows_per_case=m.db_rows_per_case,
                  embedding_dim=m.embedding_dim)
    plans = [plan(v, costs) for v in VOLUMES]
    write_report(args, m, costs, plans, result, prediction, others)
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
