"""`verifier fingerprint-quality [--json PATH] IMAGE...`: NFIQ 2, the likely cause of a low
score and the minutiae count of each fingerprint image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from verifier.commands.common import add_json_option, config_from
from lebong_contract.errors import InvalidInput
from verifier.jsonout import write_json


def run(args: argparse.Namespace) -> int:
    from verifier.fingerprint.analysis import analyse_file, load_extractor

    config = config_from(args)
    # With --json - standard output carries only the JSON.
    out = sys.stderr if args.json == "-" else sys.stdout
    extractor = load_extractor(config)
    rows: list[dict[str, Any]] = []
    status = 0
    for path in tqdm(args.images, unit="image", disable=not sys.stderr.isatty()
                     or len(args.images) < 2):
        try:
            analysis = analyse_file(path, args.ppi, extractor, config)
        except (InvalidInput, OSError) as exc:
            rows.append({"image": str(path), "error": str(exc)})
            print(f"ERROR  {path}: {exc}", file=out)
            status = 1
            continue
        quality = analysis.quality
        rows.append({"image": str(path), "nfiq2": quality.nfiq2, "passed": quality.passed,
                     "likely_cause": quality.cause.value,
                     "minutiae_count": analysis.extraction.minutiae_count,
                     "measures": quality.measures.to_dict()})
        status = status if quality.passed else 1
        shown = "-" if quality.nfiq2 is None else str(quality.nfiq2)
        print(f"{'ok' if quality.passed else 'LOW':<6} NFIQ2 {shown:>3}  "
              f"{analysis.extraction.minutiae_count:>3} minutiae  "
              f"{quality.cause.value:<15} {path}", file=out)
    write_json(args.json, {"min_nfiq2": config.fingerprint.min_nfiq2, "ppi": args.ppi,
                           "images": rows})
    return status


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "fingerprint-quality", help="NFIQ 2 and likely cause of low quality for fingerprints",
        description="Score fingerprint images with NFIQ 2 (0-100) and name the likely cause "
                    "of a low score (too dark, too light, too small an area, smudged). Exit "
                    "status 0 when every image reaches [fingerprint] min_nfiq2, 1 otherwise.")
    c.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="fingerprint images (PNG, TIFF, BMP, JPEG)")
    c.add_argument("--ppi", type=int, default=500,
                   help="resolution of the images; others than 500 are resampled (500)")
    add_json_option(c)
    c.set_defaults(func=run)
