"""Fuzz every parser that takes outside input for a time budget; writes bench/REPORT-fuzz.md.

    uv run python bench/fuzz.py --minutes 10          # what `make fuzz` runs (10 minutes in all)
    uv run python bench/fuzz.py --minutes 2 --targets decode_gate sbi_record

The targets and their properties are tests/fuzz/targets.py, the ones `make test` runs briefly
with fixed inputs; here each target gets an equal share of the budget, in rounds of fresh
random inputs (a new seed per round). A round that breaks a property is a finding: the report
gives the error, the smallest input Hypothesis shrank it to and the seed that reproduces it.
The hand-written section on the findings made so far and their fixes is kept on rerun.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.targets import TARGETS, Target, fuzz  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-fuzz.md"
KEPT_SECTION = "\n## Findings and their fixes"
ROUND_EXAMPLES = 100


@dataclass
class Outcome:
    target: Target
    inputs: int = 0
    rounds: int = 0
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    findings: dict[str, str] = field(default_factory=dict)  # error -> input and seed


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """libtiff and libjpeg print a line for every damaged file they are given."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run(target: Target, seconds: float, rng: random.Random) -> Outcome:
    outcome = Outcome(target)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        seed = rng.getrandbits(32)
        try:
            outcome.inputs += fuzz(target, ROUND_EXAMPLES, random_seed=seed)
        except Exception as exc:  # noqa: BLE001 - a finding, whatever it is
            key = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            notes = "\n".join(getattr(exc, "__notes__", []))
            example = notes.split("Explanation:")[0].strip()
            outcome.findings.setdefault(key, f"{example}\n(seed {seed})")
            outcome.inputs += ROUND_EXAMPLES  # about: the round stopped at the finding
        outcome.rounds += 1
    outcome.seconds = time.monotonic() - start
    outcome.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return outcome


def others_running() -> str:
    """The busiest other processes, so that the report says what shared the machine."""
    out = subprocess.run(["ps", "-eo", "pid=,pcpu=,args=", "--sort=-pcpu"],
                         capture_output=True, text=True, check=False).stdout.splitlines()
    busy = []
    for line in out:
        pid, cpu, command = line.split(None, 2)
        if int(pid) != os.getpid() and float(cpu) >= 1.0:
            busy.append(f"`{command[:80]}` ({cpu} % CPU)")
    return "; ".join(busy[:5]) or "nothing measurable"


def report(outcomes: list[Outcome], minutes: float, load: tuple[list[float], list[float]],
           others: str) -> str:
    total_inputs = sum(o.inputs for o in outcomes)
    lines = [
        "# Fuzzing: inputs tried and findings", "",
        f"Machine: {os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}. Budget {minutes:g} minutes in all, an equal share per "
        f"target, rounds of {ROUND_EXAMPLES} inputs with a fresh seed each (`bench/fuzz.py "
        f"--minutes {minutes:g}`; `make fuzz` runs 10 minutes).",
        f"Load average at start {', '.join(f'{x:.1f}' for x in load[0])}, at the end "
        f"{', '.join(f'{x:.1f}' for x in load[1])}. Also running at the start: {others}.", "",
        "| target | parser | inputs | rounds | time (s) | inputs/s | peak RSS (MiB) | "
        "findings |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        lines.append(f"| {o.target.name} | {o.target.what} | {o.inputs} | {o.rounds} | "
                     f"{o.seconds:.0f} | {o.inputs / max(o.seconds, 1e-9):.0f} | "
                     f"{o.peak_rss_mib:.0f} | {len(o.findings)} |")
    lines += ["", f"**{total_inputs} inputs in all, "
              f"{sum(len(o.findings) for o in outcomes)} findings in this run.**", "",
              "Peak RSS is the process's high-water mark so far (targets run in table order).",
              "", "## Findings of this run", ""]
    found = [(o.target.name, k, v) for o in outcomes for k, v in o.findings.items()]
    if not found:
        lines.append("None: every input met its target's contract.")
    for name, error, example in found:
        lines += [f"- **{name}**: `{error}`", "", "  ```", *[f"  {x}" for x in
                                                           example.splitlines()], "  ```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="budget for all targets")
    parser.add_argument("--targets", nargs="*", choices=[t.name for t in TARGETS],
                        help="only these (default: all)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the round seeds")
    args = parser.parse_args()
    targets = [t for t in TARGETS if not args.targets or t.name in args.targets]
    share = args.minutes * 60 / len(targets)
    rng = random.Random(args.seed)
    load_start, others = list(os.getloadavg()), others_running()
    outcomes = []
    for target in targets:
        with native_stderr_silenced():
            outcome = run(target, share, rng)
        outcomes.append(outcome)
        print(f"{target.name}: {outcome.inputs} inputs in {outcome.seconds:.0f} s, "
              f"{len(outcome.findings)} findings", flush=True)
    text = report(outcomes, args.minutes, (load_start, list(os.getloadavg())), others)
    if REPORT.exists() and KEPT_SECTION in REPORT.read_text():
        text += KEPT_SECTION + REPORT.read_text().split(KEPT_SECTION, 1)[1]
    REPORT.write_text(text)
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 1 if any(o.findings for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
