"""Passport-photo requirements benchmark: per-requirement precision and recall on labelled
variants, a rough check on Yale faces, and speed. Writes bench/REPORT-photo.md.

    uv run python bench/photo.py [--data DIR] [--max-bases N]
    uv run python bench/photo.py --timing-only      # the speed section alone (~1 minute)

Protocol (the report repeats it with the numbers):
- Bases: scikit-image's astronaut (bundled) and, when ../shared/data/faces (or
  $LEBONG_SHARED_DATA/faces) exists, every colour photo of deepface_pairs and
  face_recognition_examples/examples in which HOG finds exactly one face. Each is segmented
  with GrabCut (seeded with a rectangle around head and shoulders), placed on a white
  backdrop and cut to 3x4 cm passport geometry at 600x800 px (verifier.synthetic.photo_variants).
- Variants: verifier.synthetic.photo_variants.variants(): the base, two changes that keep it
  compliant (recompression, rescaling) and one labelled change each (background recoloured,
  grey, textured, shadowed; blur; under/over-exposure; roll +-15 deg; crop too tight or too
  loose; JPEG quality 8; scaled too small; glasses and tinted glasses drawn on; glasses with
  a lamp's reflection on one lens; both eyes shut (inpainted lids); a cap; a colour cast;
  greyscale; side light; red eye; a second face). `must_fail` requirements are
  positives; requirements outside `must_fail` and `may_fail` are negatives.
- A requirement that fails on a base itself (a real defect of the photo, or of the
  segmentation) has unknown truth for that base's variants and is left out of them; the
  report counts these per requirement.
- Profile: upload. Thresholds were set on the astronaut base, then the crown finder, the
  background region, the compression threshold and the glasses feature were adjusted after
  looking at the results on the first 12 bases (the astronaut and the first 11 files of
  deepface_pairs by name); the other 60 bases were not looked at while tuning.
- Eyes, mouth, expression and glare (added later, on MediaPipe's face mesh and eye-contour
  models): the thresholds were placed between Yale's conditions (eye openness 0.30 also
  from LFW's Asian faces, so that narrow open eyes pass); the mouth-corner lift threshold
  was then moved from 0.05 to 0.07 after 6 of the 24 hand-labelled neutral bases failed at
  0.05, so the hand-labelled expression row is not independent. The eyes-open iris rule
  (openness 0.30-0.34 fails when no dark iris shows) was added after looking at its two
  measures on all sets (Yale, the bases and their closed-eye variants, LFW Asian faces).
  The hand labels (mouth open/closed, smile/neutral, by looking at mouth crops) were made
  before the checks were run on those photos. Sharpness moved from the cheeks-and-mouth
  region to the eye band after looking at base and blurred values on all bases (teeth
  doubled the old measure), so the sharpness row is not independent either.
- Yale (yale_conditions, grey 320x243): glasses, illumination, eyes open, mouth closed and
  neutral expression, with the dataset's conditions as labels (glasses vs noglasses/normal;
  leftlight/rightlight vs centerlight/normal; sleepy/wink vs front-lit neutral faces;
  happy/surprised vs the same; happy vs the same). Grey, small and not passport-framed, so
  the rest does not apply.
- LFW Asian faces (lfw_asian_dev, grey): share failing eyes open (all have open eyes).
- Timing: medians of several runs on this machine; other engineers share its 2 cores, so
  timings are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.config import Config, load_config  # noqa: E402
from verifier.imaging import decode_image, encode_jpeg  # noqa: E402
from verifier.models import LoadedModels, load_models  # noqa: E402
from verifier.photo.analysis import detect_scaled  # noqa: E402
from verifier.photo.assessment import assess_photo  # noqa: E402
from verifier.synthetic import photo_variants as pv  # noqa: E402
from verifier.synthetic.frames import framed_face  # noqa: E402

REPORT = ROOT / "bench" / "REPORT-photo.md"
_GRABCUT_MAX_SIDE_PX = 400


def data_dir(arg: str | None) -> Path:
    base = Path(arg or os.environ.get("LEBONG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return base / "faces"


def segmented_base(name: str, rgb: np.ndarray, models: LoadedModels,
                   config: Config) -> pv.PhotoBase | None:
    """A passport base from a real photo: one HOG face, GrabCut person mask."""
    faces = detect_scaled(rgb, models, config.framing, 640)
    if len(faces) != 1:
        return None
    face = faces[0]
    h, w = rgb.shape[:2]
    s = min(1.0, _GRABCUT_MAX_SIDE_PX / max(h, w))
    small = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    b = face.box
    bw, bh = b.width_px, b.height_px
    rect = (max(1, int((b.left - 1.0 * bw) * s)), max(1, int((b.top - 1.0 * bh) * s)))
    right = min(small.shape[1] - 2, int((b.right + 1.0 * bw) * s))
    bottom = small.shape[0] - 2
    if right - rect[0] < 10 or bottom - rect[1] < 10:
        return None
    mask = np.zeros(small.shape[:2], np.uint8)
    cv2.setRNGSeed(7)
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask,
                (rect[0], rect[1], right - rect[0], bottom - rect[1]),
                np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    person = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    person = cv2.GaussianBlur(cv2.resize(person, (w, h), interpolation=cv2.INTER_LINEAR),
                              (0, 0), max(1.0, 0.5 / s))
    return pv.base_from_portrait(name, rgb, person, face.left_eye_px, face.right_eye_px)


def load_bases(faces_dir: Path, models: LoadedModels, config: Config, max_bases: int
               ) -> tuple[list[pv.PhotoBase], list[str]]:
    bases, skipped = [pv.astronaut_base()], []
    files = sorted((faces_dir / "deepface_pairs").glob("*.jpg")) + sorted(
        (faces_dir / "face_recognition_examples" / "examples").glob("*.[jp][pn]g"))
    for path in files[:max_bases]:
        try:
            image = decode_image(path.read_bytes(), config.imaging)
        except Exception as exc:  # noqa: BLE001 - reported, the benchmark goes on
            skipped.append(f"{path.name}: {exc}")
            continue
        if image.source_mode in ("L", "LA", "I;16"):
            skipped.append(f"{path.name}: grey")
            continue
        base = segmented_base(f"{path.parent.name}/{path.stem}", image.rgb, models, config)
        if base is None:
            skipped.append(f"{path.name}: not exactly one face found")
        else:
            bases.append(base)
    return bases, skipped


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    excluded_base_fails: int = 0

    def row(self, name: str) -> str:
        pos, neg = self.tp + self.fn, self.fp + self.tn
        prec = f"{self.tp / (self.tp + self.fp):.3f}" if self.tp + self.fp else "-"
        rec = f"{self.tp / pos:.3f}" if pos else "-"
        acc = f"{(self.tp + self.tn) / (pos + neg):.3f}" if pos + neg else "-"
        return (f"| {name} | {pos} | {neg} | {self.tp} | {self.fn} | {self.fp} | {self.tn} | "
                f"{prec} | {rec} | {acc} | {self.excluded_base_fails} |")


BaseOutcomes = dict[str, dict[str, tuple[bool, float]]]  # base -> requirement -> (failed, value)


def evaluate(bases: list[pv.PhotoBase], models: LoadedModels, config: Config
             ) -> tuple[dict[str, Counts], list[str], dict[str, int], BaseOutcomes]:
    counts: dict[str, Counts] = defaultdict(Counts)
    errors: list[str] = []
    base_fails: dict[str, int] = defaultdict(int)
    base_outcomes: BaseOutcomes = {}
    for base in bases:
        known_bad: set[str] = set()
        for variant in pv.variants(base):
            data = encode_jpeg(variant.rgb, variant.jpeg_quality)
            a = assess_photo(decode_image(data, config.imaging), models, config, "upload")
            failed = {r.requirement for r in a.failing}
            if variant.name.endswith("/compliant"):
                known_bad = failed
                base_outcomes[base.name] = {r.requirement: (not r.passed, r.value)
                                            for r in a.requirements}
                for name in failed:
                    base_fails[name] += 1
            for r in a.requirements:
                name = r.requirement
                if name in variant.may_fail and name not in variant.must_fail:
                    continue
                if name in known_bad:  # the base itself fails it: truth unknown
                    counts[name].excluded_base_fails += 1
                    continue
                positive, predicted = name in variant.must_fail, name in failed
                c = counts[name]
                if positive and predicted:
                    c.tp += 1
                elif positive:
                    c.fn += 1
                    errors.append(f"{variant.name}: {name} passed ({r.value:.3g} {r.unit})")
                elif predicted:
                    c.fp += 1
                    errors.append(f"{variant.name}: {name} failed ({r.value:.3g} {r.unit})")
                else:
                    c.tn += 1
    return counts, errors, base_fails, base_outcomes


# Hand labels of the real bases (bench/photo_expression_labels.csv), made by looking at
# crops of their mouths before the new checks were run on them: requirement -> (label
# column, positive value, negative value).
_HAND_LABELLED = {"mouth_closed": ("mouth", "open", "closed"),
                  "neutral_expression": ("expression", "smile", "neutral")}


def hand_labelled(outcomes: BaseOutcomes) -> list[str]:
    import csv

    path = ROOT / "bench" / "photo_expression_labels.csv"
    labels = {row["base"]: row for row in csv.DictReader(path.open())}
    lines = ["| requirement | positives | negatives | TP | FN | FP | TN | precision | recall | "
             "cases right | unsure (left out) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    misses = []
    for req, (column, pos, neg) in _HAND_LABELLED.items():
        c = Counts()
        for name, results in outcomes.items():
            label = labels.get(name, {}).get(column, "")
            if label not in (pos, neg) or req not in results:
                c.excluded_base_fails += 1
                continue
            failed, value = results[req]
            if label == pos:
                c.tp, c.fn = c.tp + failed, c.fn + (not failed)
            else:
                c.fp, c.tn = c.fp + failed, c.tn + (not failed)
            if failed != (label == pos):
                misses.append(f"{name}: {req} {'failed' if failed else 'passed'} "
                              f"({value:.3f}), labelled {label}")
        lines.append(c.row(req))
    eyes = [results["eyes_open"] for name, results in outcomes.items()
            if labels.get(name, {}).get("eyes_visible") == "yes" and "eyes_open" in results]
    lines += ["", f"Eyes open on the {len(eyes)} bases whose eyes are visible (all open): "
              f"{sum(f for f, _ in eyes)} failed; lowest openness "
              f"{min((v for _, v in eyes), default=0):.3f}.", ""]
    lines += [f"- {m}" for m in misses] or ["- no disagreement"]
    return lines


def yale(faces_dir: Path, models: LoadedModels, config: Config) -> list[str]:
    folder = faces_dir / "yale_conditions"
    labels = folder / "labels.csv"
    if not labels.exists():
        return ["yale_conditions not present: skipped."]
    import csv

    rows = list(csv.DictReader(labels.open()))
    front_lit_neutral = {"normal", "noglasses", "centerlight"}
    groups = {"glasses": ({"glasses"}, {"noglasses", "normal"}),
              "illumination": ({"leftlight", "rightlight"}, {"centerlight", "normal"}),
              "eyes_open": ({"sleepy", "wink"}, front_lit_neutral | {"glasses"}),
              "mouth_closed": ({"happy", "surprised"}, front_lit_neutral),
              "neutral_expression": ({"happy"}, front_lit_neutral)}
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    result: dict[str, Counts] = {k: Counts() for k in groups}
    no_face = 0
    for row in rows:
        data = (folder / row["image"]).read_bytes()
        try:
            # The GIFs decode through Pillow; the decode gate allows the formats we accept
            # from the counter, so re-encode as PNG first.
            from PIL import Image
            import io
            buf = io.BytesIO()
            Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="PNG")
            image = decode_image(buf.getvalue(), config.imaging)
        except Exception:  # noqa: BLE001
            continue
        a = assess_photo(image, models, config, "counter")
        if not a.analysis.single_face:
            no_face += 1
            continue
        outcomes = {r.requirement: r for r in a.requirements}
        for req in ("eyes_open", "mouth_closed", "neutral_expression"):
            values[(req, row["condition"])].append(outcomes[req].value)
        for req, (pos, neg) in groups.items():
            cond = row["condition"]
            if cond not in pos | neg:
                continue
            predicted = not outcomes[req].passed
            c = result[req]
            if cond in pos:
                c.tp, c.fn = c.tp + predicted, c.fn + (not predicted)
            else:
                c.fp, c.tn = c.fp + predicted, c.tn + (not predicted)
    lines = [f"{len(rows)} images; {no_face} without exactly one HOG face (left out).", "",
             "| requirement | positives | negatives | TP | FN | FP | TN | precision | recall | "
             "accuracy | - |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [c.row(k) for k, c in result.items()]
    conditions = sorted({cond for _, cond in values})
    lines += ["", "Measured values per condition (min / median / max): eye openness of the "
              "less open eye (fail below 0.30, or below 0.34 when no dark iris shows), lip gap and mouth-corner lift in "
              "IED (thresholds 0.10 and 0.07, fail above).", "",
              "| condition | eye openness | lip gap | corner lift |", "|---|---|---|---|"]
    for cond in conditions:
        cells = []
        for req in ("eyes_open", "mouth_closed", "neutral_expression"):
            v = sorted(values[(req, cond)])
            cells.append(f"{v[0]:.2f} / {statistics.median(v):.2f} / {v[-1]:.2f}" if v else "-")
        lines.append(f"| {cond} | " + " | ".join(cells) + " |")
    return lines


def asian_eyes(faces_dir: Path, models: LoadedModels, config: Config) -> list[str]:
    """False "eyes closed" on LFW's Asian faces (open eyes, grey 350x350 crops): the
    applicants at the counter are Indonesian, and narrower eye openings must not fail."""
    folder = faces_dir / "lfw_asian_dev" / "images"
    if not folder.exists():
        return ["lfw_asian_dev not present: skipped."]
    from PIL import Image
    import io

    values = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        buf = io.BytesIO()
        Image.open(path).convert("RGB").save(buf, format="PNG")
        a = assess_photo(decode_image(buf.getvalue(), config.imaging), models, config,
                         "counter")
        if a.analysis.single_face:
            values.append({r.requirement: r for r in a.requirements}["eyes_open"])
    failed = [r for r in values if r.outcome.value == "fail"]
    openness = sorted(r.value for r in values)
    return [f"{len(values)} faces with exactly one HOG face; eyes_open failed on "
            f"{len(failed)} ({100 * len(failed) / max(1, len(values)):.1f} %); openness "
            f"1st / 5th / 50th percentile {np.percentile(openness, 1):.3f} / "
            f"{np.percentile(openness, 5):.3f} / {np.percentile(openness, 50):.3f}."]


def _time(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _worker_init() -> None:
    global _W_MODELS, _W_CONFIG  # noqa: PLW0603 - one model load per worker process
    _W_CONFIG = load_config()
    _W_MODELS = load_models(_W_CONFIG.models_registry)


def _worker_check(data: bytes) -> bool:
    image = decode_image(data, _W_CONFIG.imaging)
    return assess_photo(image, _W_MODELS, _W_CONFIG, "upload").ready


def timing(models: LoadedModels, config: Config, runs: int = 5) -> list[str]:
    base = pv.astronaut_base()
    upload = encode_jpeg(cv2.resize(base.rgb, (1200, 1600), interpolation=cv2.INTER_CUBIC), 90)
    small_upload = encode_jpeg(base.rgb, 90)
    frame = encode_jpeg(framed_face(), 85)

    def one(data: bytes, profile: str) -> None:
        assess_photo(decode_image(data, config.imaging), models, config, profile)

    for data, prof in ((upload, "upload"), (frame, "counter")):
        one(data, prof)  # warm-up
    n = 20
    t_upload = [_time(lambda: [one(upload, "upload") for _ in range(n)], 1) / n
                for _ in range(runs)]
    t_upload_small = [_time(lambda: [one(small_upload, "upload") for _ in range(n)], 1) / n
                      for _ in range(runs)]
    t_frame = [_time(lambda: [one(frame, "counter") for _ in range(n)], 1) / n
               for _ in range(runs)]
    batch = [upload] * 40
    with multiprocessing.get_context("spawn").Pool(2, initializer=_worker_init) as pool:
        pool.map(_worker_check, batch[:4])  # warm-up
        t_pool = [_time(lambda: pool.map(_worker_check, batch), 1) / len(batch)
                  for _ in range(max(2, runs // 2))]
    med = statistics.median
    return [
        "| what | per item (median of runs) | rate |", "|---|---|---|",
        f"| upload 1200x1600 JPEG, decode + all upload requirements, 1 process | "
        f"{med(t_upload) * 1000:.0f} ms | {1 / med(t_upload):.1f} photos/s |",
        f"| upload 600x800 JPEG, 1 process | {med(t_upload_small) * 1000:.0f} ms | "
        f"{1 / med(t_upload_small):.1f} photos/s |",
        f"| upload 1200x1600 JPEG, 2 worker processes (2 cores) | {med(t_pool) * 1000:.0f} ms |"
        f" {1 / med(t_pool):.1f} photos/s |",
        f"| live 640x480 frame, decode + all counter requirements, 1 core | "
        f"{med(t_frame) * 1000:.1f} ms | {1 / med(t_frame):.1f} frames/s |",
        "", f"Runs: {runs} x 20 items (pool: {max(2, runs // 2)} x 40); "
        f"all runs, ms: upload {[round(t * 1000) for t in t_upload]}, frame "
        f"{[round(t * 1000, 1) for t in t_frame]}, pool {[round(t * 1000) for t in t_pool]}.",
    ]


def _error_summary(errors: list[str]) -> list[str]:
    """Errors counted by the change (the variant name's last part) and requirement."""
    counts: dict[str, int] = defaultdict(int)
    for e in errors:
        variant, _, rest = e.partition(": ")
        counts[f"{variant.rsplit('/', 1)[-1]} / {rest.split(' ')[0]} {rest.split(' ')[1]}"] += 1
    return [f"- {k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])] or ["none"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="shared data folder (default $LEBONG_SHARED_DATA or ../shared/data)")
    p.add_argument("--max-bases", type=int, default=200, help="at most this many real photos")
    p.add_argument("--timing-only", action="store_true", help="rerun the speed section alone")
    args = p.parse_args()
    config = load_config()
    models = load_models(config.models_registry)
    faces_dir = data_dir(args.data)
    speed = timing(models, config)
    if args.timing_only and REPORT.exists():
        text = REPORT.read_text()
        start, end = text.index("## Speed"), text.index("## Caveats")
        REPORT.write_text(text[:start] + "## Speed\n\n" + "\n".join(speed) + "\n\n" + text[end:])
        print("\n".join(speed))
        return 0
    t0 = time.perf_counter()
    bases, skipped = load_bases(faces_dir, models, config, args.max_bases)
    counts, errors, base_fails, base_outcomes = evaluate(bases, models, config)
    yale_lines = yale(faces_dir, models, config)
    asian_lines = asian_eyes(faces_dir, models, config)
    elapsed = time.perf_counter() - t0
    n_variants = len(pv.variants(bases[0])) * len(bases)
    header = ("| requirement | positives | negatives | TP | FN | FP | TN | precision | recall | "
              "cases right | left out (base fails it) |")
    table = [header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    table += [counts[k].row(k) for k in config.photo.upload.requirements if k in counts]
    astro_counts, _, _, _ = evaluate(bases[:1], models, config)
    astro_table = [header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    astro_table += [astro_counts[k].row(k) for k in config.photo.upload.requirements
                    if k in astro_counts]
    lines = [
        "# Passport-photo requirements: benchmark", "",
        f"Generated by `uv run python bench/photo.py` on {dt.date.today()}, on the 2-core "
        "development machine (shared with other engineers' jobs while it ran).", "",
        "## Protocol", "", __doc__.split("Protocol (the report repeats it with the numbers):")[1]
        .strip(), "",
        "## Data", "",
        f"- Bases: {len(bases)} (astronaut + {len(bases) - 1} real photos); variants: "
        f"{n_variants}; evaluation took {elapsed:.0f} s.",
        f"- Photos not used: {len(skipped)}" + (": " + "; ".join(skipped[:15]) if skipped else "")
        + (" ..." if len(skipped) > 15 else ""),
        "- Requirements failing on the bases themselves (out of "
        f"{len(bases)}): " + (", ".join(f"{k} {v}" for k, v in sorted(base_fails.items()))
                               or "none"), "",
        "## Per-requirement results, all bases (upload profile)", "",
        "A positive is a variant whose change must fail the requirement. \"Cases right\" is "
        "(TP + TN) / all cases; the goal is >= 0.95 for every requirement.", "",
        *table, "",
        "## Astronaut base alone (the development set: thresholds were set on it)", "",
        *astro_table, "",
        "## Errors (all bases)", "",
        "By change and requirement (count):", "",
        *_error_summary(errors), "",
        "The first 80:", "",
        *([f"- {e}" for e in errors[:80]] or ["none"]),
        *(["- ... " + str(len(errors) - 80) + " more"] if len(errors) > 80 else []), "",
        "## Mouth and expression on the real bases (hand labels)", "",
        "The labelled variants cannot open a mouth or make a smile, so these two "
        "requirements are measured on the real photos themselves, labelled by hand "
        "(bench/photo_expression_labels.csv).", "", *hand_labelled(base_outcomes), "",
        "## Yale faces (rough proxy labels)", "", *yale_lines, "",
        "## Eyes open on LFW Asian faces (false alarms)", "", *asian_lines, "",
        "## Speed", "", *speed, "",
        "## Caveats", "",
        "- Variants are synthetic changes of real photos; real failures (a real hat, real "
        "glasses with reflections, a real shadow) look different. Glasses are drawn as dark "
        "rims and a bridge; real rimless glasses are likely missed.",
        "- The bases' backgrounds come from GrabCut masks: hair edges and mask errors show up "
        "as background failures on some bases (counted under \"left out\").",
        "- Yaw and pitch have no labelled variants: a 2D image change cannot turn a head. "
        "Pitch from 5 landmarks depends on each person's nose-to-eye proportion (about "
        "+-8 deg between people), so its threshold is wide (10 deg).",
        "- Eyes open: the eye-contour model keeps closed lids a little apart (openness "
        "0.26-0.33 on Yale's sleepy faces against 0.31-0.55 for open eyes across all sets), "
        "so the threshold sits low to spare narrow Asian eyes and smiling squints, helped by "
        "the iris rule between 0.30 and 0.34: half-closed eyes and many winks still pass. "
        "The labelled closed-eye variant is inpainted, cruder than a real closed eye.",
        "- Mouth and expression: teeth behind nearly closed lips and closed-mouth smiles are "
        "the misses; a smile is measured by the mouth corners only (no cheeks, no brows), so "
        "a surprised face fails on its open mouth, not on its expression.",
        "- Glare: measured as near-white pixels over the lens areas, whether or not glasses "
        "are worn (skin clipped by overexposure counts too). The labelled glare is a drawn "
        "reflection.",
        "- The astronaut base and the demo's frames show her with the mouth closed by a warp "
        "of her smiling photo (verifier.synthetic.frames); her real smile is a negative in "
        "the tests.",
        "- Glasses: the feature (a horizontal bar of strong vertical gradient between the "
        "eyes) and its threshold were chosen after looking at its values on the first 12 "
        "bases AND on Yale's glasses / noglasses / normal images, so the Yale glasses row is "
        "not an independent test. Yale's \"normal\" images include subjects who wear "
        "glasses, so some of its false positives are label noise.",
        "- The \"left out\" column counts cases whose base photo already fails the "
        "requirement (truth unknown); yaw, background and illumination fail on many real "
        "bases (turned heads, GrabCut halos, real side light).",
        "- Timings are medians on a shared 2-core machine; rerun with --timing-only.",
    ]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(table))
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
