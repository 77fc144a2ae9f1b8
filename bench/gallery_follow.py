"""What a gallery's catch-up costs at each search and enrolment, against the table's size:
`RowFollower.changes` (a deletion counter and the rows above the ids held) next to the
check it replaced (count and sum of every row id held), on a fingerprint table of
`--rows` rows of the deployed row size.

    uv run python bench/gallery_follow.py --rows 100000 1000000

Protocol: rows are inserted straight into a fresh SQLite file with random bytes of the sizes
a sealed row has (template ~0.35 KiB, index vector 2.1 KiB, NIK), so the file is as large
as a real gallery's; the catch-up is then timed `--repeats` times with every row held and
nothing new (the common case: one Finish reads its own enrolment at most). Medians.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.cases import migrate  # noqa: E402
from verifier.galleries.rows import follower_for  # noqa: E402
from verifier.galleries.schema import fingerprint_gallery  # noqa: E402

# Sealed sizes in a filled gallery (bench/finish.py history: generated minutiae); a row
# then takes one 4 KiB SQLite page.
TEMPLATE_BYTES, VECTOR_BYTES, NIK_BYTES = 350, 2101, 69
REPORT = ROOT / "bench" / "REPORT-gallery-follow.md"


def fill(engine, rows: int, rng: np.random.Generator) -> None:  # noqa: ANN001
    t = fingerprint_gallery
    now = datetime.now(timezone.utc)
    batch = 10_000
    with engine.begin() as db:
        for start in range(0, rows, batch):
            db.execute(t.insert(), [dict(
                case_id=f"case-{i // 10}", position=i % 10 + 1, nik_hash=f"k:{i // 10:064x}",
                nik=rng.bytes(NIK_BYTES), template=rng.bytes(TEMPLATE_BYTES),
                index_vector=rng.bytes(VECTOR_BYTES), index_version="v", enrolled_at=now)
                for i in range(start, min(rows, start + batch))])


def count_and_sum(db, last: int) -> None:  # noqa: ANN001
    """The check `RowFollower` replaced: every row id up to the highest held."""
    t = fingerprint_gallery
    db.execute(select(func.count(), func.coalesce(func.sum(t.c.id), 0))
               .where(t.c.id <= last)).one()


def follow(follower, db, held: np.ndarray) -> None:  # noqa: ANN001
    follower.changes(db, held)
    follower.looked(held)


def timed(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    t = fingerprint_gallery
    lines = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite:///{tmp}/gallery.sqlite3")
            migrate.upgrade(engine)
            fill(engine, rows, rng)
            size_mb = os.path.getsize(f"{tmp}/gallery.sqlite3") / 2 ** 20
            with engine.connect() as db:
                held = np.array(db.scalars(select(t.c.id)).all(), dtype=np.int64)
                follower = follower_for(engine, t)
                follower.changes(db, np.empty(0, dtype=np.int64))
                follower.looked(held)
                last = int(held.max())

                old_s = timed(functools.partial(count_and_sum, db, last), args.repeats)
                new_s = timed(functools.partial(follow, follower, db, held), args.repeats)
            engine.dispose()
        lines.append(f"| {rows:,} | {size_mb:,.0f} | {old_s * 1000:.1f} | {new_s * 1000:.2f} |")
        print(lines[-1], flush=True)
    load = os.getloadavg()
    REPORT.write_text(
        "# Benchmark: a gallery's catch-up with other processes' writes\n\n"
        f"Produced by `uv run python bench/gallery_follow.py --rows "
        f"{' '.join(map(str, args.rows))}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; 1-minute load average at the end {load[0]:.1f}. "
        "Medians of "
        f"{args.repeats} catch-ups with every row held and nothing new; see the protocol in "
        "the script's docstring.\n\n"
        "| fingerprint rows | SQLite file (MiB) | count and sum of every id (ms) | "
        "RowFollower.changes (ms) |\n|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
