"""`verifier calibrate-faces`: measure an embedder's decision thresholds on labelled face
pairs and write a thresholds file bound to that model file (its sha256) and flip setting."""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from verifier.commands.common import config_from, read_csv
from verifier.config import Config
from lebong_contract.errors import VerifierError
from verifier.models import LoadedModels

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
DEFAULT_FMRS = (1e-2, 1e-3)


@dataclass(frozen=True)
class LabelledPair:
    a: Path
    b: Path
    same: bool
    comparison: str  # verifier.face.calibration.COMPARISONS


def read_labelled_pairs(csv_path: Path) -> list[LabelledPair]:
    """A CSV with the header `a,b,same` or `a,b,same,comparison` (paths relative to the
    CSV's folder, same 1/0, comparison one of COMPARISONS, "plain" when absent)."""
    from verifier.face.calibration import COMPARISONS

    header, rows = read_csv(csv_path)
    if header not in (["a", "b", "same"], ["a", "b", "same", "comparison"]):
        raise ValueError(f"{csv_path} must start with the header line 'a,b,same' or "
                         "'a,b,same,comparison'")
    pairs = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        comparison = cells[3] if len(cells) == 4 else "plain"
        if (len(cells) != len(header) or not cells[0] or not cells[1]
                or cells[2] not in ("0", "1") or comparison not in COMPARISONS):
            raise ValueError(f"{csv_path} line {number}: expected two image paths, a 0/1 "
                             f"label and optionally a comparison ({', '.join(COMPARISONS)}); "
                             f"got {row!r}")
        pairs.append(LabelledPair(csv_path.parent / cells[0], csv_path.parent / cells[1],
                                  cells[2] == "1", comparison))
    return pairs


def folder_pairs(folder: Path, comparison: str) -> list[LabelledPair]:
    """Every pair of images of a folder holding one sub-folder per identity."""
    images = [(p, d.name) for d in sorted(folder.iterdir()) if d.is_dir()
              for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if len({identity for _, identity in images}) < 2:
        raise ValueError(f"{folder} needs at least two identity sub-folders with images")
    return [LabelledPair(a, b, ia == ib, comparison)
            for (a, ia), (b, ib) in itertools.combinations(images, 2)]


def _embed(path: Path, models: LoadedModels, config: Config) -> np.ndarray | None:
    from verifier.face.document_faces import find_face
    from verifier.imaging import decode_image

    try:
        image = decode_image(path.read_bytes(), config.imaging)
    except OSError as exc:
        print(f"skipped {path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None
    except VerifierError as exc:
        print(f"skipped {path}: {exc.message}", file=sys.stderr)
        return None
    found = find_face(image.rgb, models, config.face)
    if found is None:
        print(f"skipped {path}: no face found", file=sys.stderr)
        return None
    return found.template.embedding


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from verifier.face.calibration import (Calibration, calibrate, fmr_fnmr, point_name,
                                           write_calibration)
    from verifier.face.embedders import face_embedder
    from verifier.models import load_models

    if bool(args.pairs) == bool(args.folders):
        raise ValueError("give either --pairs PAIRS.csv or --folders DIR")
    if args.min_expected_matches < 1:
        raise ValueError("--min-expected-matches must be at least 1")
    config = config_from(args)
    face = replace(config.face, embedder=args.embedder or config.face.embedder,
                   flip_tta=config.face.flip_tta if args.flip_tta is None else args.flip_tta)
    config = replace(config, face=face)
    pairs = (read_labelled_pairs(args.pairs) if args.pairs
             else folder_pairs(args.folders, args.comparison))
    models = load_models(config.models_registry)
    embedder = face_embedder(models, face.embedder, face.num_jitters, face.flip_tta)
    paths = sorted({p for pair in pairs for p in (pair.a, pair.b)})
    vectors = {p: _embed(p, models, config)
               for p in tqdm(paths, desc="images", unit="image", disable=None, file=sys.stderr)}
    distances: dict[tuple[str, bool], list[float]] = {}
    for pair in pairs:
        va, vb = vectors[pair.a], vectors[pair.b]
        if va is not None and vb is not None:
            distances.setdefault((pair.comparison, pair.same), []).append(
                float(np.linalg.norm(va.astype(np.float64) - vb.astype(np.float64))))
    group = (args.pairs or args.folders).name
    impostors = {(kind, group): np.asarray(d) for (kind, same), d in distances.items()
                 if not same}
    if not impostors:
        raise ValueError("no impostor pair with a face on both images: nothing to calibrate")
    fmrs = tuple(args.fmr or DEFAULT_FMRS)
    result = calibrate(impostors, fmrs, args.min_expected_matches)
    missing = [point_name(f) for f in fmrs if point_name(f) not in result.points]
    for note in result.notes:
        print(note)
    if missing and not args.allow_missing:
        raise ValueError(f"the data cannot support {', '.join(missing)} (fewer than "
                         f"{args.min_expected_matches:g}/FMR impostor pairs); nothing written. "
                         "Add impostor pairs, or pass --allow-missing to write the points "
                         "that could be measured")
    for kind in sorted({k for k, _ in distances}):
        genuine = np.asarray(distances.get((kind, True), []))
        impostor = np.asarray(distances.get((kind, False), []))
        for name in sorted(result.points, key=lambda n: -result.points[n].fmr):
            point = result.comparisons.get(kind, {}).get(name, result.points[name])
            fmr, fnmr = fmr_fnmr(genuine, impostor, point.distance)
            print(f"{kind} {name}: distance {point.distance:.4f} ({point.comparison}); on "
                  f"these pairs (in-sample) FMR {fmr:.4%} of {impostor.size}, FNMR {fnmr:.2%} "
                  f"of {genuine.size}")
    derivation = (f"verifier calibrate-faces on {group}: {len(pairs)} pairs, "
                  f"{sum(v is None for v in vectors.values())} of {len(vectors)} images without "
                  f"a face; verifier.face.calibration.calibrate with {args.min_expected_matches:g}"
                  "/FMR impostor pairs needed per comparison kind. Match when distance <= "
                  "threshold.")
    calibration = Calibration(model=embedder.name, model_sha256=embedder.sha256,
                              derivation=derivation, points=result.points,
                              flip_tta=embedder.flip_tta, comparisons=result.comparisons)
    write_calibration(args.out, calibration, comment=(
        f"Face decision thresholds for {embedder.name} (Euclidean distance), written by "
        "`verifier calibrate-faces`.\n" + "\n".join(result.notes)))
    print(f"wrote {args.out} for {embedder.name}@{embedder.sha256[:12]} "
          f"(flip_tta {str(embedder.flip_tta).lower()})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from verifier.face.calibration import COMPARISONS

    c = sub.add_parser(
        "calibrate-faces", help="measure an embedder's face thresholds on labelled pairs",
        description=(
            "Embed the faces of labelled pairs with an embedder, measure the distance at "
            "which each FMR of impostor pairs match, per comparison kind, and write a "
            "thresholds file bound to the embedder's model file. An FMR needs at least "
            "N/FMR impostor pairs (N = --min-expected-matches, 3 by default: the rule of "
            "three); with fewer the command refuses. Point [face] thresholds_path at the "
            "file and set [face] embedder to use it."))
    c.add_argument("--pairs", type=Path, metavar="PAIRS.csv",
                   help="CSV with the header 'a,b,same' or 'a,b,same,comparison' (paths "
                        "relative to the CSV's folder; comparison: "
                        f"{', '.join(COMPARISONS)}; plain when absent)")
    c.add_argument("--folders", type=Path, metavar="DIR",
                   help="folder with one sub-folder of images per identity (all pairs)")
    c.add_argument("--comparison", choices=COMPARISONS, default="plain",
                   help="comparison kind of the pairs from --folders (plain)")
    c.add_argument("--embedder", metavar="NAME",
                   help="registry name of the embedder (default: [face] embedder)")
    c.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None,
                   help="embed with (or without) flip test-time augmentation; the file then "
                        "requires the same [face] flip_tta (default: [face] flip_tta)")
    c.add_argument("--fmr", type=float, action="append", metavar="FMR",
                   help="FMR to calibrate (repeatable; default 1e-2 and 1e-3)")
    c.add_argument("--min-expected-matches", type=float, default=3.0, metavar="N",
                   help="impostor pairs needed for an FMR, times the FMR (3)")
    c.add_argument("--allow-missing", action="store_true",
                   help="write the points that could be measured when some FMR could not")
    c.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="thresholds file to write (e.g. models/face_thresholds.toml)")
    c.set_defaults(func=run)
