"""Finish latency against the office's history: how long the verdict takes with 0, 1,000,
10,000 (and on request 100,000) earlier cases in the galleries.

    uv run python bench/finish.py                        # 0, 1k, 10k on SQLite
    uv run python bench/finish.py --sizes 0 1000 10000 100000 --db postgresql

Protocol: the galleries are filled directly with generated history (a random unit-scale
128-d embedding per case, and ten generated minutiae templates per case from
verifier/synthetic/minutiae.py); then complete sessions (the demo applicant's live
frames, KTP and ten generated fingers, each case a new NIK with fresh fingers) are run through the
counter-session code in process, items first, and only `finish` is timed: it assembles the
typed evidence, runs every rule with the 1:N searches, enrols the case and stores the
verdict. The OCR of documents is not in it (they were read when they arrived). Medians and
95th percentiles over `--finishes` finishes per size. The galleries are loaded into memory
before the finishes, as a server does before it says SERVING; that load is timed apart. Generated minutiae are not real prints
(bench/REPORT-fingerprint-index.md has the real-print figures); the timing does not depend
on that.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.complete_case import finger_png, frame_jpeg, ktp_jpeg  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from verifier.cases.crypto import generate_ring, load_key_file, write_key_file  # noqa: E402
from verifier.cases.store import CaseStore  # noqa: E402
from verifier.config import Config, load_config  # noqa: E402
from verifier.counter_session import CounterSessions  # noqa: E402
from verifier.gallery import Enrolment  # noqa: E402
from verifier.galleries.open import open_galleries  # noqa: E402
from verifier.models import LoadedModels, load_models  # noqa: E402
from verifier.synthetic.minutiae import generated_finger, iso_record  # noqa: E402

REPORT_DIR = ROOT / "bench"
APPLICATION = {"full_name": "SITI AMINAH", "nik": "1707014508900001",
               "date_of_birth": "1990-08-05", "place_of_birth": "MUARA AMAN", "sex": "FEMALE",
               "passport_type": "ELECTRONIC"}


def fill_history(sessions: CounterSessions, n: int, rng: np.random.Generator) -> float:
    """n earlier cases straight into the galleries; returns the seconds it took."""
    galleries = sessions.galleries
    assert galleries is not None
    started = time.perf_counter()
    for i in range(n):
        case_id, nik = str(uuid.uuid4()), f"17070{i:011d}"
        vector = rng.normal(0.0, 0.09, 128).astype(np.float32)
        galleries.face.enrol(Enrolment(case_id, nik, "face"), vector)
        galleries.fingerprints.enrol_case(case_id, nik, {
            p: iso_record(generated_finger(rng)) for p in range(1, 11)})
    return time.perf_counter() - started


def kept_history(folder: Path, tmp: Path, size: int, models: LoadedModels, config: Config,
                 rng: np.random.Generator) -> tuple[CaseStore, float]:
    """A copy of the history of `size` cases kept in `folder` (filled there first if absent),
    opened with its keys; and the seconds its fill took."""
    kept, key_file = folder / f"cases-{size}.sqlite3", folder / f"cases-{size}.keys"
    fill_file = folder / f"cases-{size}.fill_s"
    if not fill_file.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        kept.unlink(missing_ok=True)
        ring = generate_ring()
        write_key_file(key_file, ring)
        store = CaseStore(f"sqlite:///{kept}", ring)
        fill_s = fill_history(CounterSessions(
            store, models, config, open_galleries(store, models, config)), size, rng)
        store.close()  # checkpoints the WAL into the file
        fill_file.write_text(f"{fill_s:.1f}\n")
    copy = tmp / kept.name
    shutil.copyfile(kept, copy)
    return (CaseStore(f"sqlite:///{copy}", load_key_file(key_file)),
            float(fill_file.read_text()))


def one_finish(sessions: CounterSessions, serial: int) -> float:
    """A complete case of a new applicant (its own NIK serial and fingers)."""
    sid = str(uuid.uuid4())
    application = dict(APPLICATION, nik=f"170701450890{serial:04d}")
    sessions.start(sid, 1, "loket-1", "petugas-7", application)
    seq = 1
    for _ in range(sessions.config.photo.capture.steady_frames):
        seq += 1
        sessions.frame(sid, seq, frame_jpeg())
    seq += 1
    sessions.document(sid, seq, "KTP", ktp_jpeg())
    for position in range(1, 11):
        seq += 1
        sessions.fingerprint(sid, seq, position, 500, finger_png(5000 + 20 * serial + position))
    started = time.perf_counter()
    outcome = sessions.finish(sid, seq + 1)
    took = time.perf_counter() - started
    assert outcome.verdict is not None
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--finishes", type=int, default=20)
    parser.add_argument("--shortlists", type=int, nargs="+", default=[10],
                        help="fingerprint shortlist sizes to time on the same history")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a throw-away server (tests/postgres_server.py)")
    parser.add_argument("--history-dir", type=Path,
                        help="SQLite only: keep each filled history here (cases-N.sqlite3, its "
                        "key file and fill time) and reuse it on later runs; the timed "
                        "finishes run on a copy (filling 100,000 cases takes 35-55 minutes)")
    parser.add_argument("--max-load", type=float,
                        help="before each size's timed finishes, wait until the 1-minute load "
                        "average is at most this (a quiet machine)")
    args = parser.parse_args(argv)
    if args.history_dir is not None and args.db != "sqlite":
        parser.error("--history-dir works with --db sqlite only")
    config = load_config()
    models = load_models(config.models_registry)
    rows = []
    loads: list[float] = []  # 1-minute load average as each size's finishes start
    rng = np.random.default_rng(20261129)
    postgres = PostgresServer() if args.db == "postgresql" else None
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            if args.history_dir is not None:
                store, fill_s = kept_history(args.history_dir, Path(tmp), size, models,
                                             config, rng)
            else:
                url = (postgres.new_database() if postgres is not None
                       else f"sqlite:///{Path(tmp) / f'cases-{size}.sqlite3'}")
                store = CaseStore(url, generate_ring())
                fill_s = fill_history(CounterSessions(
                    store, models, config, open_galleries(store, models, config)),
                    size, rng)
            # A server loads its galleries before it says SERVING (timed apart): the rows
            # the fill wrote, or the kept history's, are opened here.
            started = time.perf_counter()
            sessions = CounterSessions(store, models, config,
                                       open_galleries(store, models, config))
            load_s = time.perf_counter() - started
            assert sessions.galleries is not None
            if args.max_load is not None:
                while os.getloadavg()[0] > args.max_load:
                    time.sleep(15)
            loads.append(os.getloadavg()[0])
            fingers = sessions.galleries.fingerprints
            serial = 0
            for shortlist in args.shortlists:
                fingers.config = dataclasses.replace(fingers.config,  # type: ignore[misc]
                                                     shortlist_cases=shortlist)
                times = []
                for _ in range(args.finishes):
                    serial += 1
                    times.append(one_finish(sessions, serial))
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                rows.append((size, shortlist, statistics.median(times), p95, max(times),
                             fill_s, load_s))
                print(f"{size:>7} earlier cases, shortlist {shortlist}: finish p50 "
                      f"{statistics.median(times):.3f} s, p95 {p95:.3f} s (history filled in "
                      f"{fill_s:.0f} s, galleries loaded in {load_s:.1f} s)", flush=True)
            store.close()
    if postgres is not None:
        postgres.stop()
    write_report(args, rows, loads)
    return 0


def write_report(args: argparse.Namespace,
                 rows: list[tuple[int, int, float, float, float, float, float]],
                 loads: list[float]) -> None:
    lines = [
        "# Benchmark: Finish latency against the office's history",
        "",
        f"Produced by `uv run python bench/finish.py --sizes {' '.join(map(str, args.sizes))} "
        f"--finishes {args.finishes} --shortlists {' '.join(map(str, args.shortlists))} "
        f"--db {args.db}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. 1-minute "
        f"load average as each size's finishes started: "
        f"{', '.join(f'{x:.1f}' for x in loads)}. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; see the protocol in the "
        "script's docstring. Time of `CounterSessions.finish` alone: evidence assembly, every "
        "rule with the face and fingerprint 1:N searches, enrolment, the verdict's commit.",
        "",
        "| earlier cases | fingerprint shortlist (cases) | Finish p50 (s) | Finish p95 (s) "
        "| slowest (s) | history fill (s) | galleries loaded at start-up (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {n:,} | {k} | {p50:.3f} | {p95:.3f} | {worst:.3f} | {fill:.0f} | {load:.1f} |"
              for n, k, p50, p95, worst, fill, load in rows]
    lines += ["", "Before this round (issue 11's measurement, 9 templates a case): 8 s with 30 "
              "earlier cases, 27 s with 100, 80 s with 300: every earlier case was decrypted "
              "and every finger compared at every Finish.", ""]
    (REPORT_DIR / f"REPORT-finish-{args.db}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
