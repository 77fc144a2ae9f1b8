"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from verifier.config import Config, load_config


def db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (SQLite)."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


def config_from(args: argparse.Namespace) -> Config:
    """Defaults, then --config FILE, then the command's own --listen / --db."""
    overrides: dict[str, dict[str, object]] = {}
    if getattr(args, "listen", None):
        overrides.setdefault("server", {})["listen"] = args.listen
    if getattr(args, "db", None):
        overrides.setdefault("store", {})["url"] = db_url(args.db)
    return load_config(args.config, **overrides)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH",
                        help="also write the result as JSON to PATH ('-' for standard output)")


Pair = tuple[Path, Path, "bool | None"]


def read_csv(csv_path: Path) -> tuple[list[str], list[list[str]]]:
    """(the header's cells, lower-cased; every row, the header first) of a UTF-8 CSV."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError:
        raise ValueError(f"{csv_path} is not a UTF-8 text file") from None
    return ([c.strip().lower() for c in rows[0]] if rows else []), rows


def read_pairs(csv_path: Path) -> list[Pair | str]:
    """Pairs for `match-faces --pairs` and `match-fingerprints --pairs`: a CSV with the header
    `a,b` or `a,b,same` (1/0 labels), image paths relative to the CSV's folder. A malformed
    line becomes an error text for that pair instead of ending the batch."""
    header, rows = read_csv(csv_path)
    if header not in (["a", "b"], ["a", "b", "same"]):
        raise ValueError(f"{csv_path} must start with the header line 'a,b' or 'a,b,same'")
    labelled = len(header) == 3
    pairs: list[Pair | str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = [c.strip() for c in row]
        label = cells[2] if labelled and len(cells) == 3 else ""
        if (len(cells) != len(header) or not cells[0] or not cells[1]
                or (labelled and label not in ("0", "1"))):
            expected = ("a,b,same (two image paths and a 0/1 label)" if labelled
                        else "two image paths")
            pairs.append(f"line {number}: expected {expected}, got {len(row)} column(s)")
            continue
        pairs.append((csv_path.parent / cells[0], csv_path.parent / cells[1],
                      (label == "1") if labelled else None))
    return pairs


def check_pair_args(args: argparse.Namespace) -> None:
    """Either two images or --pairs, as both match commands take them."""
    if bool(args.pairs) == bool(args.images):
        raise ValueError("give either two images A B or --pairs PAIRS.csv")
    if args.images and len(args.images) != 2:
        raise ValueError(f"give exactly two images, got {len(args.images)}")
