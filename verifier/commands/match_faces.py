"""`verifier match-faces`: compare faces in two images, or in every pair of a CSV file, at a
calibrated operating point (for auditors and benchmarks)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from verifier.commands.common import (add_json_option, check_pair_args, config_from,
                                      read_pairs)
from verifier.config import Config
from lebong_contract.errors import VerifierError
from verifier.jsonout import write_json


@dataclass(frozen=True)
class _Face:
    """One image's face, or why it has none."""

    embedding: Any = None
    summary: dict[str, Any] | None = None
    error: str | None = None


def _face(path: Path, models: Any, config: Config) -> _Face:
    from verifier.face.document_faces import find_face
    from verifier.imaging import decode_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        return _Face(error=f"{path}: cannot read: {exc.strerror or exc}")
    try:
        image = decode_image(data, config.imaging)
    except VerifierError as exc:
        return _Face(error=f"{path}: {exc.message}")
    found = find_face(image.rgb, models, config.face)
    if found is None:
        return _Face(error=f"{path}: no face found (tried {', '.join(_stages(config))})")
    tpl = found.template
    return _Face(embedding=tpl.embedding, summary={
        "box_px": list(found.box_in_source_px()), "detector": tpl.detector,
        "faces_found": found.faces_found, "quality": tpl.quality.to_dict()})


def _stages(config: Config) -> list[str]:
    names = ["HOG"] + [f"HOG upsampled {n}x" for n in range(1, config.face.max_upsample + 1)]
    return names + (["CNN"] if config.face.cnn_fallback else [])


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from verifier.face.calibration import load_calibration
    from verifier.face.matching import face_matcher
    from verifier.models import load_models

    check_pair_args(args)
    config = config_from(args)
    face = config.face
    if args.operating_point:
        face = replace(face, operating_point=args.operating_point)
    if args.jitters is not None:
        face = replace(face, num_jitters=args.jitters)
    if args.no_cnn:
        face = replace(face, cnn_fallback=False)
    config = replace(config, face=face)
    pairs = read_pairs(args.pairs) if args.pairs else [(args.images[0], args.images[1], None)]
    load_calibration(face.thresholds_path).point(face.operating_point)  # before the models
    models = load_models(config.models_registry)
    matcher = face_matcher(models, face)
    faces: dict[Path, _Face] = {}  # an image in many pairs is embedded once
    results, failed = [], 0
    for pair in tqdm(pairs, desc="pairs", unit="pair", disable=None, file=sys.stderr):
        row: dict[str, Any]
        if isinstance(pair, str):
            row = {"a": None, "b": None, "error": pair}
        else:
            a, b, _ = pair
            for path in (a, b):
                if path not in faces:
                    faces[path] = _face(path, models, config)
            fa, fb = faces[a], faces[b]
            row = {"a": str(a), "b": str(b), "a_face": fa.summary, "b_face": fb.summary}
            if fa.error or fb.error:
                row["error"] = "; ".join(e for e in (fa.error, fb.error) if e)
            else:
                row |= matcher.decide(fa.embedding, fb.embedding,
                                      face.operating_point).to_dict()
        failed += "error" in row
        results.append(row)
        if args.json != "-":  # standard output carries the JSON alone
            print(_line(row))
    write_json(args.json, {"operating_point": face.operating_point,
                           "thresholds_file": str(face.thresholds_path),
                           "model": matcher.model_label, "pairs": results})
    return 1 if failed else 0


def _line(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"ERROR     {row['error']}"
    verdict = "MATCH    " if row["match"] else "NO MATCH "
    return (f"{verdict} {row['a']}  {row['b']}  score {row['score']:.4f} "
            f"(threshold {row['threshold']:.4f}, {row['operating_point']})")


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "match-faces", help="compare the faces in two images, or in each pair of a CSV file",
        description=(
            "Find the largest face in each image (HOG, upsampled HOG, then the CNN detector), "
            "embed it with dlib's ResNet and decide at a calibrated operating point. Score is "
            "1 - Euclidean distance; a pair matches when score >= threshold. Exit status: 0 "
            "when every pair was compared, 1 when a pair could not be (unreadable image, no "
            "face), 2 on a usage error."))
    c.add_argument("images", nargs="*", type=Path, metavar="IMAGE",
                   help="two images A B to compare (or use --pairs)")
    c.add_argument("--pairs", type=Path, metavar="PAIRS.csv",
                   help="CSV with the header 'a,b' and one pair of image paths per line "
                        "(relative paths are relative to the CSV's folder)")
    c.add_argument("--operating-point", metavar="FMR=1e-3",
                   help="calibrated operating point to decide at (default: [face] "
                        "operating_point of the configuration, FMR=1e-3)")
    c.add_argument("--jitters", type=int, metavar="N",
                   help="average N jittered embeddings per face (N times slower; default 1)")
    c.add_argument("--no-cnn", action="store_true",
                   help="skip the CNN detector fallback (about 1-4 s per image without a "
                        "HOG-detectable face)")
    add_json_option(c)
    c.set_defaults(func=run)
