"""Fingerprint benchmark: FVC protocol on generated fingers and, when present, on
../shared/data/fingerprints/*; writes bench/REPORT-fingerprints.md.

    uv run python bench/fingerprints.py                 # everything (~3-5 min on 2 cores)
    uv run python bench/fingerprints.py --timing-only   # only the timing table, quick

Protocol (FVC2000-2004): genuine = every pair of impressions of the same finger; impostor =
the first impression of each finger against the first impression of every other finger.
Per set: EER, FMR100 / FMR1000 (lowest FNMR with FMR at most 1 % / 0.1 %), ZeroFMR (lowest
FNMR with no false match), mean NFIQ 2, failures to extract.

Two pipelines run in the same process on the same images:
  ours   decode gate -> 8-bit grey -> resample to 500 ppi -> NBIS mindtct -> Bozorth3
  plain  NBIS mindtct on the file's own bytes -> Bozorth3 (what nbis-py does out of the box)

The operating threshold is calibrated on a separate set of generated fingers (ids disjoint
from the evaluation set): all impostor pairs among their first impressions.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from verifier.config import load_config  # noqa: E402
from verifier.fingerprint.analysis import analyse_grey, load_extractor  # noqa: E402
from verifier.synthetic.fingerprints import encode_png, impression  # noqa: E402

IMPRESSIONS = 8
EVAL_FIRST_ID = 10_000  # generated evaluation fingers: ids 10000.. (disjoint from tests)
CALIBRATION_FIRST_ID = 20_000


@dataclass
class Finger:
    finger: str
    impression: int
    load: Callable[[], bytes]  # encoded image bytes


@dataclass
class Features:
    ours: Any
    plain: Any
    nfiq2: int | None


def shared_data_root() -> Path:
    return Path(os.environ.get("LEBONG_SHARED_DATA", REPO.parent / "shared" / "data"))


def generated_set(first_id: int, fingers: int, difficulty: float) -> list[Finger]:
    return [Finger(str(f), k, (lambda f=f, k=k: encode_png(impression(f, k, difficulty))))
            for f in range(first_id, first_id + fingers) for k in range(IMPRESSIONS)]


def folder_set(folder: Path) -> list[Finger]:
    name = re.compile(r"^(\d+)_(\d+)\.(png|tif|tiff|bmp)$", re.IGNORECASE)
    items = []
    for path in sorted(folder.rglob("*")):
        if m := name.match(path.name):
            items.append(Finger(m.group(1), int(m.group(2)), path.read_bytes))
    return items


def extract_all(items: Sequence[Finger], label: str) -> tuple[dict[tuple[str, int], Features],
                                                                 int, int]:
    """Features of every image by both pipelines; failures counted, not fatal."""
    import nbis

    config = load_config()
    extractor = load_extractor(config)
    plain = nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
        min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=False,
        ppi=None))
    out: dict[tuple[str, int], Features] = {}
    ours_failed = plain_failed = 0
    from verifier.imaging import decode_image

    for item in tqdm(items, desc=f"extract {label}", disable=not sys.stderr.isatty()):
        data = item.load()
        try:
            image = decode_image(data, config.imaging)
            analysis = analyse_grey(image.grey(), 500, extractor, config.fingerprint)
            ours, nfiq2 = analysis.extraction.minutiae, analysis.extraction.nfiq2
        except Exception:  # noqa: BLE001 - a failure to extract is a measured outcome
            ours, nfiq2 = None, None
            ours_failed += 1
        try:
            raw = plain.extract_minutiae(data)
        except Exception:  # noqa: BLE001
            raw = None
            plain_failed += 1
        out[item.finger, item.impression] = Features(ours, raw, nfiq2)
    return out, ours_failed, plain_failed


def fvc_pairs(keys: Sequence[tuple[str, int]]) -> tuple[list[tuple[Any, Any]],
                                                        list[tuple[Any, Any]]]:
    by_finger: dict[str, list[tuple[str, int]]] = {}
    for key in sorted(keys, key=lambda k: (k[0], k[1])):
        by_finger.setdefault(key[0], []).append(key)
    genuine = [pair for ks in by_finger.values() for pair in itertools.combinations(ks, 2)]
    firsts = [ks[0] for ks in by_finger.values()]
    impostor = list(itertools.combinations(firsts, 2))
    return genuine, impostor


def scores(features: dict[tuple[str, int], Features], pairs: Sequence[tuple[Any, Any]],
           which: str) -> np.ndarray:
    """Bozorth3 scores; a pair with a failed extraction scores 0 (a miss, as FVC counts)."""
    out = []
    for a, b in pairs:
        fa, fb = getattr(features[a], which), getattr(features[b], which)
        out.append(0 if fa is None or fb is None else int(fa.compare(fb)))
    return np.asarray(out, dtype=np.int64)


def rates(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, float]:
    """EER, FMR100, FMR1000, ZeroFMR over every integer threshold (match: score >= t)."""
    thresholds = np.arange(0, max(genuine.max(initial=0), impostor.max(initial=0)) + 2)
    fmr = np.array([(impostor >= t).mean() for t in thresholds])
    fnmr = np.array([(genuine < t).mean() for t in thresholds])
    i = int(np.argmin(np.abs(fmr - fnmr)))
    def fnmr_at(limit: float) -> float:
        ok = fmr <= limit
        return float(fnmr[ok].min()) if ok.any() else float("nan")
    return {"eer": float((fmr[i] + fnmr[i]) / 2), "fmr100": fnmr_at(0.01),
            "fmr1000": fnmr_at(0.001), "zero_fmr": fnmr_at(0.0)}


def threshold_at_fmr(impostor: np.ndarray, fmr: float) -> int:
    """Smallest integer threshold whose FMR on these impostor scores is at most `fmr`."""
    for t in range(0, int(impostor.max(initial=0)) + 2):
        if (impostor >= t).mean() <= fmr:
            return t
    raise AssertionError("unreachable")


def evaluate(name: str, items: list[Finger], threshold: int) -> dict[str, Any]:
    features, ours_failed, plain_failed = extract_all(items, name)
    genuine_pairs, impostor_pairs = fvc_pairs(list(features))
    row: dict[str, Any] = {"set": name, "images": len(items),
                           "fingers": len({k[0] for k in features}),
                           "genuine": len(genuine_pairs), "impostor": len(impostor_pairs)}
    nfiq = [f.nfiq2 for f in features.values() if f.nfiq2 is not None]
    row["mean_nfiq2"] = statistics.fmean(nfiq) if nfiq else float("nan")
    row["nfiq2_failed"] = sum(f.nfiq2 is None for f in features.values())
    for which, failed in (("ours", ours_failed), ("plain", plain_failed)):
        g, i = scores(features, genuine_pairs, which), scores(features, impostor_pairs, which)
        row[which] = {**rates(g, i), "failed": failed,
                      "fnmr_at_threshold": float((g < threshold).mean()),
                      "fmr_at_threshold": float((i >= threshold).mean()),
                      "impostor_max": int(i.max(initial=0))}
    return row


def timing(runs: int) -> dict[str, float]:
    """Medians over `runs` repetitions of 20 extractions and 200 comparisons."""
    import nbis

    config = load_config()
    extractor = load_extractor(config)
    images = [impression(30_000 + f, 0) for f in range(20)]
    pngs = [encode_png(g) for g in images]
    plain = nbis.new_nbis_extractor(nbis.NbisExtractorSettings(
        min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=False,
        ppi=None))
    per: dict[str, list[float]] = {"ours_extract_ms": [], "plain_extract_ms": [],
                                   "match_ms": [], "generate_impression_ms": []}
    for _ in range(runs):
        t = time.perf_counter()
        minutiae = [analyse_grey(g, 500, extractor, config.fingerprint).extraction.minutiae
                    for g in images]
        per["ours_extract_ms"].append((time.perf_counter() - t) * 1000 / len(images))
        t = time.perf_counter()
        for data in pngs:
            plain.extract_minutiae(data)
        per["plain_extract_ms"].append((time.perf_counter() - t) * 1000 / len(pngs))
        t = time.perf_counter()
        n = 0
        for a, b in itertools.islice(itertools.cycle(itertools.combinations(minutiae, 2)), 200):
            a.compare(b)
            n += 1
        per["match_ms"].append((time.perf_counter() - t) * 1000 / n)
        t = time.perf_counter()
        for k in range(10):
            impression(30_000, 100 + k)
        per["generate_impression_ms"].append((time.perf_counter() - t) * 1000 / 10)
    return {k: statistics.median(v) for k, v in per.items()}


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f} %"


def report(rows: list[dict[str, Any]], calibration: dict[str, Any],
           times: dict[str, float], runs: int) -> str:
    lines = [
        "# Fingerprint benchmark",
        "",
        f"Generated by `bench/fingerprints.py` on {time.strftime('%Y-%m-%d')}; machine: "
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, nbis-py 0.1.3 (NBIS mindtct + Bozorth3, NFIQ 2).",
        "",
        "## Protocol",
        "",
        "FVC protocol per set: genuine = every pair of impressions of one finger; impostor = "
        "first impression of each finger against the first impression of every other finger. "
        "A pair whose extraction failed scores 0. FMR100 / FMR1000 = lowest FNMR with FMR at "
        "most 1 % / 0.1 %; ZeroFMR = lowest FNMR with no false match. With few impostor pairs "
        "(45 for 10 fingers) FMR1000 and ZeroFMR equal each other and are not statistically "
        "meaningful: read them as 'no impostor pair reached this score'.",
        "",
        "*ours*: decode gate -> 8-bit grey -> resampled to 500 ppi -> NBIS mindtct -> Bozorth3 "
        "(the verifier's pipeline). *plain*: NBIS mindtct on the file's own bytes -> Bozorth3, "
        "measured in the same run on the same images.",
        "",
        "## Operating threshold",
        "",
        f"Calibrated on {calibration['fingers']} generated fingers disjoint from the evaluation "
        f"sets (all {calibration['impostor']} impostor pairs of first impressions, "
        f"difficulty {calibration['difficulty']}): Bozorth3 >= **{calibration['t1000']}** "
        f"gives FMR <= 1e-3 there (FMR <= 1e-2 at {calibration['t100']}; highest impostor "
        f"score {calibration['impostor_max']}). `FingerprintConfig.match_threshold` uses the "
        "FMR 1e-3 value. It is measured on generated prints only; real impostor "
        "distributions differ (see caveats).",
        "",
        "## Accuracy",
        "",
        "| set | images | fingers | genuine / impostor pairs | pipeline | EER | FMR100 | "
        "FMR1000 | ZeroFMR | FNMR / FMR at threshold | failed extractions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for which in ("ours", "plain"):
            r = row[which]
            lines.append(
                f"| {row['set']} | {row['images']} | {row['fingers']} | {row['genuine']} / "
                f"{row['impostor']} | {which} | {_fmt(r['eer'])} | {_fmt(r['fmr100'])} | "
                f"{_fmt(r['fmr1000'])} | {_fmt(r['zero_fmr'])} | "
                f"{_fmt(r['fnmr_at_threshold'])} / {_fmt(r['fmr_at_threshold'])} | "
                f"{r['failed']} |")
    lines += ["", "| set | mean NFIQ 2 | NFIQ 2 could not assess |", "|---|---|---|"]
    lines += [f"| {row['set']} | {row['mean_nfiq2']:.1f} | {row['nfiq2_failed']} |"
              for row in rows]
    lines += ["", time_section(times, runs), CAVEATS]
    return "\n".join(lines)


def time_section(times: dict[str, float], runs: int) -> str:
    return "\n".join([
        "## Time",
        "",
        f"Medians of {runs} runs (20 extractions, 200 comparisons, 10 generated impressions "
        f"per run), measured {time.strftime('%Y-%m-%d %H:%M')}. The machine's 2 cores were "
        "shared with other engineers' work: absolute times are noisy, ratios less so. "
        "Rerun this table alone with `--timing-only`.",
        "",
        "| step | ms |",
        "|---|---|",
        f"| extraction, ours (grey in; resampling, mindtct, NFIQ 2, cause measures) | "
        f"{times['ours_extract_ms']:.1f} |",
        f"| extraction, plain mindtct on PNG bytes (no NFIQ 2) | {times['plain_extract_ms']:.1f} |",
        f"| one Bozorth3 comparison | {times['match_ms']:.2f} |",
        f"| one generated impression (master cached) | {times['generate_impression_ms']:.1f} |",
        "",
    ])


CAVEATS = """## Caveats

- No set here holds real human fingerprints: FVC2004 DB4_B was itself made with SFinGe,
  toy_16x8's origin is unstated, and our generator is a simplified SFinGe. Accuracy on
  the office's own scanners is unmeasured.
- Impostor pairs of our generated fingers score higher (highest 54) than those of both
  shared sets (17 and 28), so the threshold calibrated on them is conservative on those
  sets: at 44 the FNMR is 31 % on FVC2004 DB4_B (a deliberately hard set with strong
  distortion; its EER is 6.4 %) and 6 % on toy_16x8. Re-derive the threshold on real
  impostor pairs before relying on the stated FMR; with 45 and 120 impostor pairs the
  shared sets cannot measure FMR 1e-3 at all.
- The threshold was not tuned on any reported set (the calibration fingers are disjoint);
  the cause thresholds in `FingerprintConfig` were set on generated prints with defects
  made on purpose, which the tests check.
- *ours* and *plain* score identically: the verifier adds no enhancement before mindtct.
  Its steps buy safety and uniform input, not accuracy: every image passes the decode gate,
  colour and 16-bit images become 8-bit grey, other resolutions are resampled to 500 ppi,
  and sizes mindtct cannot take are refused (an 8 x 8 image aborts the process inside NBIS).
- Generated arches grow jagged ridges (the half-resolution growth) and few minutiae; a
  generated arch's genuine pairs can score 0.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generated-fingers", type=int, default=40)
    parser.add_argument("--calibration-fingers", type=int, default=120)
    parser.add_argument("--difficulty", type=float, default=1.3,
                        help="impression variation of generated sets (1.0 = tests' default)")
    parser.add_argument("--runs", type=int, default=3, help="timing repetitions")
    parser.add_argument("--timing-only", action="store_true",
                        help="measure only the times; update that table of an existing report")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "REPORT-fingerprints.md")
    args = parser.parse_args(argv)

    times = timing(args.runs)
    for k, v in times.items():
        print(f"{k}: {v:.2f}")
    if args.timing_only:
        if args.out.is_file():  # replace only the time table of the existing report
            text = args.out.read_text(encoding="utf-8")
            start, end = text.index("## Time"), text.index("## Caveats")
            args.out.write_text(text[:start] + time_section(times, args.runs) + "\n"
                                + text[end:], encoding="utf-8")
            print(f"updated the time table of {args.out}")
        return 0
    # Calibration: only first impressions are needed.
    cal_items = [Finger(str(f), 1, (lambda f=f: encode_png(impression(f, 0, args.difficulty))))
                 for f in range(CALIBRATION_FIRST_ID,
                                CALIBRATION_FIRST_ID + args.calibration_fingers)]
    cal_features, _, _ = extract_all(cal_items, "calibration")
    _, cal_pairs = fvc_pairs(list(cal_features))
    cal_scores = scores(cal_features, cal_pairs, "ours")
    calibration = {"fingers": args.calibration_fingers, "impostor": len(cal_pairs),
                   "difficulty": args.difficulty,
                   "t100": threshold_at_fmr(cal_scores, 0.01),
                   "t1000": threshold_at_fmr(cal_scores, 0.001),
                   "impostor_max": int(cal_scores.max(initial=0))}
    print("calibration:", calibration)
    threshold = calibration["t1000"]
    rows = [evaluate(f"generated (difficulty {args.difficulty})",
                     generated_set(EVAL_FIRST_ID, args.generated_fingers, args.difficulty),
                     threshold)]
    root = shared_data_root() / "fingerprints"
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            items = folder_set(folder)
            if items:
                rows.append(evaluate(folder.name, items, threshold))
    else:
        print(f"{root} not found: real sets skipped", file=sys.stderr)
    for row in rows:
        print(row)
    args.out.write_text(report(rows, calibration, times, args.runs), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
