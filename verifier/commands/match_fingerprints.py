"""`verifier match-fingerprints [--json PATH] A B` and `--pairs PAIRS.csv`: Bozorth3 scores
and decisions at the configured operating point, for auditors and benchmarks.

PAIRS.csv and the JSON have the layout of `match-faces --pairs`: the header `a,b` (or
`a,b,same` with 1/0 labels, which adds FMR and FNMR to the summary), paths relative to the
CSV's folder, one JSON row per pair with `score`, `threshold`, `operating_point`, `match`, or
`error` for a pair that could not be compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from verifier.commands.common import (add_json_option, check_pair_args, config_from,
                                      read_pairs)
from verifier.config import Config
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.matching import MODEL_NAME as MATCHER_NAME
from verifier.jsonout import write_json


def _compare(pairs: list[tuple[Path, Path, bool | None] | str], ppi: int, config: Config,
             out: TextIO, print_rows: bool) -> list[dict[str, Any]]:
    from verifier.fingerprint.analysis import analyse_file, load_extractor
    from verifier.fingerprint.matching import compare_minutiae

    extractor = load_extractor(config)
    prints: dict[Path, dict[str, Any]] = {}  # an image in many pairs is extracted once

    def summary(path: Path) -> dict[str, Any]:
        if path not in prints:
            try:
                analysis = analyse_file(path, ppi, extractor, config)
                prints[path] = {"minutiae": analysis.extraction.minutiae, "summary": {
                    "nfiq2": analysis.quality.nfiq2,
                    "minutiae_count": analysis.extraction.minutiae_count,
                    "likely_cause": analysis.quality.cause.value}}
            except (InvalidInput, OSError) as exc:
                prints[path] = {"error": f"{path}: {exc}"}
        return prints[path]

    rows = []
    for pair in tqdm(pairs, desc="pairs", unit="pair", disable=None, file=sys.stderr):
        row: dict[str, Any]
        if isinstance(pair, str):
            row = {"a": None, "b": None, "error": pair}
        else:
            a, b, same = pair
            fa, fb = summary(a), summary(b)
            row = {"a": str(a), "b": str(b), "a_print": fa.get("summary"),
                   "b_print": fb.get("summary")}
            if same is not None:
                row["same"] = same
            if "error" in fa or "error" in fb:
                row["error"] = "; ".join(f["error"] for f in (fa, fb) if "error" in f)
            else:
                comparison = compare_minutiae(fa["minutiae"], fb["minutiae"],
                                              config.fingerprint)
                row.update(score=comparison.score, threshold=comparison.threshold,
                           operating_point=comparison.operating_point,
                           match=comparison.match)
        rows.append(row)
        if print_rows:
            print(_line(row), file=out)
    return rows


def _line(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"ERROR     {row['error']}"
    verdict = "MATCH    " if row["match"] else "NO MATCH "
    return (f"{verdict} {row['a']}  {row['b']}  score {row['score']} "
            f"(threshold {row['threshold']}, {row['operating_point']})")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if "match" in r]
    genuine = [r for r in scored if r.get("same") is True]
    impostor = [r for r in scored if r.get("same") is False]
    summary: dict[str, Any] = {"pairs": len(rows), "errors": len(rows) - len(scored),
                               "matches": sum(r["match"] for r in scored),
                               "genuine_pairs": len(genuine), "impostor_pairs": len(impostor)}
    if genuine:
        summary["fnmr"] = sum(not r["match"] for r in genuine) / len(genuine)
    if impostor:
        summary["fmr"] = sum(r["match"] for r in impostor) / len(impostor)
    return summary


def run(args: argparse.Namespace) -> int:
    check_pair_args(args)
    config = config_from(args)
    pairs: list[tuple[Path, Path, bool | None] | str] = (
        read_pairs(args.pairs) if args.pairs else [(args.images[0], args.images[1], None)])
    # Standard output carries the JSON alone with --json -.
    rows = _compare(pairs, args.ppi, config, sys.stdout, print_rows=args.json != "-")
    summary = _summary(rows)
    write_json(args.json, {"operating_point": config.fingerprint.operating_point,
                           "threshold": config.fingerprint.match_threshold,
                           "model": MATCHER_NAME, "pairs": rows, "summary": summary})
    return 1 if summary["errors"] else 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "match-fingerprints", help="compare fingerprints (Bozorth3) at the operating point",
        description="Compare two fingerprint images, or every pair in a CSV, with NBIS "
                    "Bozorth3 on mindtct minutiae; a pair matches when the score reaches "
                    "[fingerprint] match_threshold. Exit status 1 when an image could not "
                    "be read.")
    c.add_argument("images", nargs="*", type=Path, metavar="IMAGE",
                   help="two fingerprint images A B")
    c.add_argument("--pairs", type=Path, metavar="PAIRS.csv",
                   help="CSV with the header 'a,b' (or 'a,b,same' with 1/0 labels) and one "
                        "pair of image paths per line, relative to the CSV's folder; shows a "
                        "progress bar on a terminal")
    c.add_argument("--ppi", type=int, default=500,
                   help="resolution of the images; others than 500 are resampled (500)")
    add_json_option(c)
    c.set_defaults(func=run)
