"""`verifier read-document`: read a KTP, birth certificate or passport from photos or scans
and print each field with its confidence."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from verifier.commands.common import add_json_option, config_from
from verifier.config import Config
from lebong_contract.errors import VerifierError
from verifier.jsonout import write_json


def _text_models(config: Config) -> Any:
    """Only the models this command needs (text detection and the second recogniser),
    verified against the registry like at start-up."""
    from verifier.documents.item import TEXT_DETECTOR, TEXT_RECOGNISER
    from verifier.models import LoadedModels, load_one

    objects = {name: load_one(config.models_registry, name)
               for name in (TEXT_DETECTOR, TEXT_RECOGNISER)}
    return LoadedModels(face_detector=None, objects=objects, verified={})


def _read_one(path: Path, kind: str, models: Any, config: Config) -> dict[str, Any]:
    from verifier.documents.item import analyse_document
    from verifier.imaging import decode_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        return {"image": str(path), "error": f"cannot read: {exc.strerror or exc}"}
    try:
        image = decode_image(data, config.imaging)
    except VerifierError as exc:
        return {"image": str(path), "error": exc.message}
    analysis = analyse_document(image, kind, models, config)
    return {"image": str(path), "kind": kind, **analysis.to_dict()}


def _print(result: dict[str, Any]) -> None:
    print(f"== {result['image']}")
    if "error" in result:
        print(f"   error: {result['error']}")
        return
    print(f"   {result['summary']}")
    for f in result["fields"]:
        print(f"   {f['name']:<20} {f['confidence']:5.2f}  {f['value']}")
    for c in result["checks"]:
        if c["outcome"] != "pass":
            print(f"   [{c['outcome'].upper()}] {c['requirement']}: {c['message_en']}")


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    models = _text_models(config)
    images: list[Path] = args.images
    results = []
    iterator: Any = images
    if len(images) > 1 and sys.stderr.isatty():
        from tqdm import tqdm

        iterator = tqdm(images, unit="image", file=sys.stderr)
    for path in iterator:
        result = _read_one(path, args.kind, models, config)
        results.append(result)
        if args.json != "-":
            _print(result)
    write_json(args.json, {"kind": args.kind, "documents": results})
    return 2 if any("error" in r for r in results) else 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "read-document", help="read a KTP, birth certificate or passport, field by field",
        description="Find the document in each photo or scan, rectify it and read its "
                    "fields with a confidence each (0-1); KTP NIKs are decoded and checked "
                    "against the card, passport MRZ check digits verified. Exit status 2 "
                    "when an image could not be read at all.")
    c.add_argument("--kind", required=True, choices=["ktp", "akta", "passport"],
                   help="document kind: ktp (e-KTP card), akta (birth certificate), "
                        "passport (old passport data page or any ICAO MRZ document)")
    c.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="photo or scan (JPEG, PNG, TIFF, BMP, WEBP)")
    add_json_option(c)
    c.set_defaults(func=run)
