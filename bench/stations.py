"""Many capture stations at once against one verifier: does it stay up, does every station get
its verdict, and how fast are guidance and verdicts when the analysis threads are shared?

    uv run python bench/stations.py --stations 8 --runs 20
    uv run python bench/stations.py --stations 8 16 --runs 3 1   # writes bench/REPORT-stations.md

Each run starts a fresh `verifier serve` (default configuration, its own SQLite file) and N
`capture-station run` processes, all at once, each running the demo's session (tools/demo.py):
6 s of an applicant walking up to the camera at 5 frames/s, the application form, a KTP and a
birth certificate photographed on a desk, nine fingers and one declared exception. Fingers come
from a folder of the demo person's generated prints instead of the SBI simulator, so that the
stations do not queue on one simulated device.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lebong_contract.probe import free_port, wait_serving  # noqa: E402
from verifier.synthetic.akta import generate_akta  # noqa: E402
from verifier.synthetic.degrade import Degradation, degrade  # noqa: E402
from verifier.synthetic.fingerprints import encode_png, impression  # noqa: E402
from verifier.synthetic.frames import approach_sequence  # noqa: E402
from verifier.synthetic.identity import identity_with_nik  # noqa: E402
from verifier.synthetic.ktp import generate_ktp  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-stations.md"
# The report's hand-written part (how each native model behaves under threads), kept on rerun.
KEPT_SECTION = "\n## Native models under concurrent use"
FPS = 10
VIDEO_S = 6.0  # the applicant's video; the station plays it at its frame rate
PERSON = 7  # the demo's seed and SBI simulator person
APPLICANT = {"full_name": "SITI AMINAH", "nik": "1707014508900001",
             "date_of_birth": "1990-08-05", "place_of_birth": "MUARA AMAN", "sex": "female",
             "passport_type": "electronic"}
EXCEPTION_POSITION = 5
# A verifier that dies prints one of these (glibc's heap checks, a segfault, an abort).
_CRASH_MARKS = ("free(): ", "corrupted", "Segmentation fault", "double free", "munmap_chunk",
                "Aborted")


@dataclass(frozen=True)
class Inputs:
    video: Path
    application: Path
    ktp: Path
    akta: Path
    fingers: Path


@dataclass(frozen=True)
class StationResult:
    exit_code: int
    decision: str | None  # None: no verdict reached the station
    guidance_count: int
    camera_s: float  # session start to capture accepted; without a capture, the video's length
    capture_accepted: bool
    frames_sent: int
    frames_dropped: int  # the station's in-flight window was full: the verifier lagged
    finish_to_verdict_s: float | None


@dataclass(frozen=True)
class RunResult:
    stations: tuple[StationResult, ...]
    verifier_crashed: bool
    verifier_exit: int | None  # after SIGTERM at the end; None when it had died before
    crash_lines: tuple[str, ...]
    peak_rss_mib: float
    wall_s: float
    load_before: float  # 1-minute load average when the run started

    @property
    def verdicts(self) -> int:
        return sum(s.decision is not None for s in self.stations)


def make_inputs(out: Path) -> Inputs:
    """The demo's inputs (tools/demo.py), with the fingers as files."""
    out.mkdir(parents=True, exist_ok=True)
    video = out / "applicant.avi"
    frames = approach_sequence(round(VIDEO_S * FPS))
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    application = out / "application.json"
    application.write_text(json.dumps(APPLICANT))
    person = identity_with_nik(random.Random(PERSON), APPLICANT["nik"], APPLICANT["full_name"],
                               APPLICANT["place_of_birth"])
    ktp, akta = out / "ktp.jpg", out / "akta.jpg"
    ktp.write_bytes(degrade(generate_ktp(PERSON, person)[0],
                            Degradation(tilt_deg=4, perspective=0.03, clutter=True),
                            PERSON).encoded())
    akta.write_bytes(degrade(generate_akta(PERSON, person)[0], Degradation(tilt_deg=-2),
                             PERSON).encoded())
    fingers = out / "fingers"
    fingers.mkdir(exist_ok=True)
    for position in range(1, 11):
        if position != EXCEPTION_POSITION:  # finger ids as the SBI simulator draws them
            (fingers / f"{position:02d}.png").write_bytes(
                encode_png(impression(PERSON * 10 + position, 0)))
    return Inputs(video, application, ktp, akta, fingers)


def _module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):  # the kernel's own peak resident set
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _station_result(exit_code: int, report: Path) -> StationResult:
    if not report.exists():
        return StationResult(exit_code, None, 0, VIDEO_S, False, 0, 0, None)
    r = json.loads(report.read_text())
    decided = r["decision"] not in ("", "unspecified")
    accepted = r["time_to_capture_s"] is not None
    return StationResult(exit_code, r["decision"] if decided else None, r["guidance_count"],
                         r["time_to_capture_s"] if accepted else VIDEO_S, accepted,
                         r["frames_sent"], r["frames_dropped"], r["time_to_verdict_s"])


def station_id(i: int) -> str:
    return f"bench-loket-{i}"


def start_station(address: str, inputs: Inputs, work: Path, i: int, env: dict[str, str], *,
                  finger_interval_s: float = 0.0, max_fps: float = 5.0,
                  documents: tuple[str, ...] = ("ktp", "akta_kelahiran"),
                  extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """`capture-station run` for station i: the demo's session from `inputs`, its spool,
    report (`report-i.json`) and log in `work`; `extra` adds options (TLS, officer)."""
    paths = {"ktp": inputs.ktp, "akta_kelahiran": inputs.akta}
    with open(work / f"station-{i}.log", "wb") as log:
        return subprocess.Popen(_module(
            "capture_station.cli", "run", "--verifier", address,
            "--camera", str(inputs.video), "--max-fps", f"{max_fps:g}",
            "--application", str(inputs.application),
            "--dev", "--scanner", f"folder:{inputs.fingers}?interval={finger_interval_s:g}",
            "--finger-exception", f"{EXCEPTION_POSITION}=bandaged:luka",
            *(arg for kind in documents for arg in ("--document", f"{kind}={paths[kind]}")),
            "--station-id", station_id(i), "--officer-id", "bench",
            "--spool", str(work / f"spool-{i}.sqlite3"),
            "--report", str(work / f"report-{i}.json"), *extra),
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)


def run_fleet(n: int, inputs: Inputs, work: Path, timeout_s: float = 1800.0,
              stagger_s: float = 0.0, finger_interval_s: float = 0.0) -> RunResult:
    """One run: a fresh verifier and `n` stations, station i started `i * stagger_s` after the
    first (0: all together); waits for every station."""
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_THREAD_LIMIT="1")
    address = f"127.0.0.1:{free_port()}"
    verifier_log = work / "verifier.log"
    with open(verifier_log, "wb") as log:
        verifier = subprocess.Popen(
            _module("verifier.cli", "serve", "--listen", address,
                    "--db", str(work / "cases.sqlite3")),
            cwd=ROOT, stdout=log, stderr=log, env=env)
    stations: list[subprocess.Popen[bytes]] = []
    peak = 0.0
    try:
        wait_serving(address, timeout_s=180)
        load_before = os.getloadavg()[0]
        t0 = time.monotonic()
        for i in range(n):
            time.sleep(max(0.0, t0 + i * stagger_s - time.monotonic()))
            stations.append(start_station(address, inputs, work, i, env,
                                          finger_interval_s=finger_interval_s))
        deadline = time.monotonic() + timeout_s
        while any(s.poll() is None for s in stations) and time.monotonic() < deadline:
            peak = max(peak, _peak_rss_mib(verifier.pid) or 0.0)
            time.sleep(0.2)
        wall_s = time.monotonic() - t0
        peak = max(peak, _peak_rss_mib(verifier.pid) or 0.0)
        crashed = verifier.poll() is not None
    finally:
        for s in stations:
            if s.poll() is None:
                s.kill()
                s.wait()
        exit_code = None
        if verifier.poll() is None:
            verifier.send_signal(signal.SIGTERM)
            try:
                exit_code = verifier.wait(30)
            except subprocess.TimeoutExpired:
                verifier.kill()
                verifier.wait()
    text = verifier_log.read_text(errors="replace")
    crash_lines = tuple(line for line in text.splitlines()
                        if any(mark in line for mark in _CRASH_MARKS))
    results = tuple(_station_result(s.returncode, work / f"report-{i}.json")
                    for i, s in enumerate(stations))
    return RunResult(results, crashed, exit_code, crash_lines, peak, wall_s, load_before)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _others_running() -> str:
    """The busiest other processes as the run starts (this machine is shared)."""
    me = os.getpid()
    out = subprocess.run(["ps", "-eo", "pid,pcpu,etimes,args", "--sort=-pcpu"], check=True,
                         capture_output=True, text=True).stdout.splitlines()[1:]
    rows = []
    for line in out:
        pid, cpu, _, args = line.split(None, 3)
        if int(pid) != me and float(cpu) >= 5.0:
            rows.append(f"{cpu}% {args[:90]}")
    return "; ".join(rows[:5]) or "nothing above 5% CPU"


def summarise(n: int, runs: list[RunResult]) -> list[str]:
    stations = [s for r in runs for s in r.stations]
    rates = [s.guidance_count / s.camera_s for s in stations]
    f2v = [s.finish_to_verdict_s for s in stations if s.finish_to_verdict_s is not None]
    decisions: dict[str, int] = {}
    for s in stations:
        key = s.decision or "none"
        decisions[key] = decisions.get(key, 0) + 1

    def stat(values: list[float], fmt: str) -> str:
        if not values:
            return "n/a"
        return (f"median {fmt.format(statistics.median(values))}, p5 {fmt.format(_pct(values, 0.05))}"
                f", p95 {fmt.format(_pct(values, 0.95))}")

    lines = [
        f"### {n} stations, {len(runs)} run(s)",
        "",
        f"- verifier crashed: **{sum(r.verifier_crashed for r in runs)} of {len(runs)} runs**"
        + "".join(f"; `{line}`" for r in runs for line in r.crash_lines[:2]),
        f"- verdicts delivered: **{sum(r.verdicts for r in runs)} of {len(stations)}** "
        f"(decisions: {', '.join(f'{k} {v}' for k, v in sorted(decisions.items()))}); "
        f"station exit codes: {sorted({s.exit_code for s in stations})}",
        f"- guidance messages per station per second (camera phase): {stat(rates, '{:.2f}')}",
        f"- live capture accepted: {sum(s.capture_accepted for s in stations)} of "
        f"{len(stations)} stations; frames sent per station "
        f"{stat([float(s.frames_sent) for s in stations], '{:.0f}')}, dropped by the station "
        f"(window full) {stat([float(s.frames_dropped) for s in stations], '{:.0f}')}",
        f"- Finish to verdict, s: p50 {_pct(f2v, 0.5):.1f}, p95 {_pct(f2v, 0.95):.1f}, "
        f"max {max(f2v):.1f}" if f2v else "- Finish to verdict: no verdict",
        f"- verifier peak RSS, MiB: {stat([r.peak_rss_mib for r in runs], '{:.0f}')}",
        f"- run wall time (all stations done), s: {stat([r.wall_s for r in runs], '{:.0f}')}",
        f"- 1-minute load average as each run started: "
        f"{', '.join(f'{r.load_before:.1f}' for r in runs)}",
        f"- verifier exit status after SIGTERM: {sorted({str(r.verifier_exit) for r in runs})}",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, nargs="+", default=[8])
    parser.add_argument("--runs", type=int, nargs="+", default=[3],
                        help="runs per --stations value (one value: the same for each)")
    parser.add_argument("--stagger-s", type=float, default=0.0,
                        help="start station i this many seconds times i after the first (an "
                        "office where applicants arrive apart; default 0: all at once)")
    parser.add_argument("--finger-interval-s", type=float, default=0.0,
                        help="seconds between one finger's capture and the next, as an "
                        "officer and applicant take at a real scanner (default 0: all at once)")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    runs_per = args.runs * len(args.stations) if len(args.runs) == 1 else args.runs
    if len(runs_per) != len(args.stations):
        parser.error("give one --runs value, or one per --stations value")
    work = Path(tempfile.mkdtemp(prefix="bench-stations-"))
    inputs = make_inputs(work / "inputs")
    others = _others_running()
    sections: list[str] = []
    for n, runs in zip(args.stations, runs_per):
        results = []
        for k in range(runs):
            r = run_fleet(n, inputs, work / f"n{n}-run{k}", stagger_s=args.stagger_s,
                          finger_interval_s=args.finger_interval_s)
            results.append(r)
            print(f"[stations] {n} stations, run {k + 1}/{runs}: crashed={r.verifier_crashed} "
                  f"verdicts={r.verdicts}/{n} wall={r.wall_s:.0f}s "
                  f"peak_rss={r.peak_rss_mib:.0f}MiB", flush=True)
        sections += summarise(n, results)
    old = args.report.read_text() if args.report.exists() else ""
    kept = old[old.index(KEPT_SECTION):] if KEPT_SECTION in old else ""
    args.report.write_text("\n".join([
        "# Benchmark: many capture stations against one verifier",
        "",
        f"Produced by `uv run python bench/stations.py --stations {' '.join(map(str, args.stations))}"
        f" --runs {' '.join(map(str, runs_per))} --stagger-s {args.stagger_s:g}"
        f" --finger-interval-s {args.finger_interval_s:g}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Other processes when it started: {others}.",
        "",
        "Protocol: each run starts a fresh `verifier serve` (default configuration: "
        "`analysis_threads` 2, `max_queued_tasks` 32; its own SQLite file), waits for SERVING, "
        "then starts N `capture-station run` processes at once on the same machine, each "
        "running the demo's session (tools/demo.py): 60 frames of the astronaut walking up "
        "at 5 frames/s, the application form, a tilted KTP and birth certificate, nine "
        "generated fingers from a folder (one every `--finger-interval-s` seconds) and one "
        "declared exception; the station sends the documents before the fingers. Stations "
        "and verifier "
        "share the 2 cores. Guidance rate: guidance messages a station received divided by "
        "its camera phase (session start to capture accepted; without a capture, the 6 s "
        "the video lasts, of which the station offers 30 frames at 5/s). Finish to verdict: the "
        "station's own `time_to_verdict_s` (Finish spooled to verdict received). Peak RSS: "
        "the verifier's VmHWM. A crash is the verifier process ending before the stations.",
        "",
        *sections,
    ]) + kept)
    print(f"[stations] report written to {args.report}; work files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
