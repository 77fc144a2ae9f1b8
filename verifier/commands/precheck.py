"""`verifier precheck`: passport-photo requirements on photo files and folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from verifier.commands import precheck_keys
from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}


def photo_files(paths: list[Path]) -> list[Path]:
    """Files named on the command line, and image files found in named folders (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise OSError(f"{path}: no such file or folder")
    return files


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lebong_contract.errors import InvalidInput
    from verifier.models import load_models
    from verifier.photo.report_html import ReportEntry, report_html
    from verifier.precheck import precheck_photo

    config = config_from(args)
    files = photo_files(args.paths)
    models = load_models(config.models_registry)
    rows: list[dict[str, Any]] = []
    entries: list[ReportEntry] = []
    for path in tqdm(files, desc="precheck", unit="photo", disable=not sys.stderr.isatty()):
        try:
            assessment = precheck_photo(path.read_bytes(), models, config, args.profile)
        except (OSError, InvalidInput) as exc:
            message = getattr(exc, "message", None) or str(exc)
            rows.append({"path": str(path), "compliant": False, "error": message})
            entries.append(ReportEntry(str(path), None, message))
            print(f"ERROR {path}: {message}")
            continue
        rows.append({"path": str(path), **assessment.to_dict()})
        entries.append(ReportEntry(str(path), assessment))
        if assessment.ready:
            print(f"PASS  {path}")
        else:
            first = assessment.to_fix[0]
            print(f"FAIL  {path}: {first.requirement}: {first.message_id} / {first.message_en}")
    passed = sum(1 for r in rows if r["compliant"])
    print(f"{passed} of {len(rows)} photos compliant ({args.profile} profile)", file=sys.stderr)
    write_json(args.json, {"profile": args.profile, "photos": rows, "compliant": passed,
                           "total": len(rows)})
    if args.html:
        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        Path(args.html).write_text(report_html(entries, args.profile), encoding="utf-8")
    return 0 if rows and passed == len(rows) else 1


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "precheck", help="check passport photos against the photo requirements",
        description="Check photo files (and image files in folders, recursively) against the "
        "passport-photo requirements. Prints one line per photo; exit status 0 only when "
        "every photo is compliant, 1 otherwise.")
    c.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="photo files or folders of photos")
    c.add_argument("--profile", choices=("upload", "counter"), default="upload",
                   help="threshold profile: 'upload' for a finished photo file (default), "
                   "'counter' for a camera frame the verifier would crop")
    c.add_argument("--html", metavar="PATH",
                   help="also write an HTML report with each photo annotated (self-contained)")
    add_json_option(c)
    c.set_defaults(func=run)
    precheck_keys.register(sub)  # the service's API keys, next to the command in the help
