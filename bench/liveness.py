"""Liveness at the counter: APCER per attack species and BPCER on bona fide sessions at the
deployed [liveness] settings, and the time the challenge adds to a session.

Protocol (ISO/IEC 30107-3 terms):
- Faces: one colour photo per identity of ../shared/data/faces/deepface_pairs (or
  $LEBONG_SHARED_DATA/faces), read at run time and never stored; scikit-image's astronaut
  when the folder is absent (then the figures are development figures only).
- Each face plays one bona fide session (verifier.synthetic.liveness.Performer: sways,
  answers each prompt after 0.6 s) and one session per presentation attack instrument
  species: printed photo, photo on a phone screen, replayed video (a recording of the same
  face doing blink / turn / move closer at fixed times, shown on a phone), cut-out mask (the
  face printed, cut out with eye holes and worn by the next face in the list).
- Each session runs through `CounterSessions` (SQLite store, the models, the photo
  requirements, auto-capture) exactly as the servicer calls it, frames timed at `--fps`;
  the verdict's liveness flag is the decision. APCER(species) = attack sessions without a
  liveness flag / attack sessions; BPCER = bona fide sessions with one / bona fide sessions.
- Time added: the challenge's duration in each bona fide session (first prompt until the
  verifier stops asking); the frame time to the accepted photo with [liveness] on minus off,
  on the astronaut (whose frames pass the counter photo rules; the shared photos' own
  backgrounds do not); the per-frame cost of the passive cues, timed on this machine.

The action and border thresholds in verifier/config.py were placed on the astronaut's
simulated frames (development); the screen threshold after looking at the screen scores of
these faces too. All attacks are simulated; real attacks differ.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.liveness_sessions import counter_session  # noqa: E402
from verifier.cases.store import CaseStore  # noqa: E402
from verifier.config import Config, LivenessConfig, load_config  # noqa: E402
from verifier.counter_session import CounterSessions  # noqa: E402
from verifier.face.detection import detect_faces  # noqa: E402
from verifier.face.liveness.measures import frame_measures  # noqa: E402
from verifier.imaging import decode_image, encode_jpeg  # noqa: E402
from verifier.models import LoadedModels, load_models  # noqa: E402
from verifier.photo.analysis import analyse_photo  # noqa: E402
from verifier.synthetic.frames import framed_face  # noqa: E402
from verifier.synthetic.liveness import (Attack, Performer, Portrait, Species,  # noqa: E402
                                         camera_view)

# Inter-eye distance the faces are brought to: a face filling about a third of a 640x480
# webcam frame, as at the counter.
_IED_PX = 80.0
_MIN_IED_PX = 50.0


def data_dir(arg: str | None) -> Path:
    base = Path(arg or os.environ.get("LEBONG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return base / "faces" / "deepface_pairs"


def astronaut_portrait(models: LoadedModels) -> Portrait:
    frame = framed_face()
    face = detect_faces(frame, models, 1, 0.0)[0]
    return Portrait(frame, face.left_eye_px, face.right_eye_px)


def portraits(folder: Path, models: LoadedModels, limit: int) -> list[tuple[str, Portrait]]:
    """One photo per identity, reduced so its eyes are _IED_PX apart (or as it is, when
    they are _MIN_IED_PX-_IED_PX apart); photos where no single face is found, or a smaller
    one, are skipped."""
    if not folder.is_dir():
        return [("astronaut", astronaut_portrait(models))]
    seen, out = set(), []
    with open(folder / "identities_derived.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["identity_cluster"] in seen or len(out) >= limit:
                continue
            rgb = cv2.cvtColor(cv2.imread(str(folder / row["image"])), cv2.COLOR_BGR2RGB)
            k = 1000 / max(rgb.shape[:2])
            small = cv2.resize(rgb, None, fx=min(1, k), fy=min(1, k), interpolation=cv2.INTER_AREA)
            faces = detect_faces(small, models, 1, 0.0)
            if len(faces) != 1:
                continue
            # Only ever reduced: an enlarged photo carries its interpolation's periodic
            # pattern, which no camera makes (and which the screen cue would see).
            scale = _IED_PX / faces[0].inter_eye_distance_px
            if scale > 1 and faces[0].inter_eye_distance_px < _MIN_IED_PX:
                continue
            sized = small if scale > 1 else cv2.resize(small, None, fx=scale, fy=scale,
                                                       interpolation=cv2.INTER_AREA)
            again = detect_faces(sized, models, 1, 0.0)
            if len(again) != 1:
                continue
            seen.add(row["identity_cluster"])
            out.append((row["identity_cluster"],
                        Portrait(sized, again[0].left_eye_px, again[0].right_eye_px)))
    return out


@dataclasses.dataclass(frozen=True)
class Run:
    species: Species
    face: str
    flagged: str  # the liveness flag's rule id and reason, "" when none
    actions: tuple[str, ...]
    challenge_s: float | None  # from the first prompt until the verifier stopped asking
    captured_s: float | None
    frames: int
    seconds: float  # wall time


def run_session(sessions: CounterSessions, presenter: object, species: Species, face: str,
                fps: float, max_s: float, seed: int, until_capture: bool = False) -> Run:
    """One session, until the verifier stops asking (the outcome is then fixed) or, with
    `until_capture`, until it accepts a photo."""
    started = time.perf_counter()
    verdict, driven = counter_session(sessions, presenter, fps=fps,  # type: ignore[arg-type]
                                      max_s=max_s, seed=seed, until_capture=until_capture,
                                      full_name="BENCH")
    flags = [f"{f.rule_id}:{f.evidence.get('reason', '')}" for f in verdict.flags
             if "liveness" in f.rule_id]
    challenge = (None if driven.answered_s is None or driven.prompted_s is None
                 else driven.answered_s - driven.prompted_s)
    return Run(species, face, ";".join(flags), driven.actions, challenge, driven.captured_s,
               driven.frames, time.perf_counter() - started)


def step_cost(models: LoadedModels, config: Config, portrait: Portrait, repeats: int) -> float:
    """Median ms of the passive cues on one analysed frame (the liveness step's own work
    apart from reading the stored frames, which the sessions' wall time includes)."""
    rgb = camera_view(Performer(portrait, np.random.default_rng(0)).frame(0.0, None),
                      np.random.default_rng(1))
    analysis = analyse_photo(decode_image(encode_jpeg(rgb, 90), config.imaging), models,
                             config.framing, config.photo.detection_max_side_px)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        frame_measures(analysis, 0.0, 1)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def rate(runs: list[Run], attack: bool) -> tuple[int, int]:
    errors = sum((r.flagged == "") if attack else (r.flagged != "") for r in runs)
    return errors, len(runs)


def report(runs: list[Run], timed: list[Run], off: list[Run], cost_ms: float,
           settings: LivenessConfig, faces: int, source: str, fps: float, out: Path) -> None:
    lines = ["# Liveness at the counter (presentation attack detection)", "",
             "Generated by `bench/liveness.py`; protocol in its docstring. **All attacks are "
             "simulated** (verifier/synthetic/liveness.py) from still photos; real attacks (real "
             "paper, screens, cameras, light, practised attackers, 3-D masks) may differ, and "
             "these figures do not certify the check against them.", "",
             f"- Faces: {faces} ({source}), one bona fide and one session per species each; "
             f"frames at {fps:g} fps, the station's JPEG quality 90.",
             f"- Settings: the deployed defaults of `[liveness]` (enabled for the run): "
             f"{settings.steps} actions, a turn required, response window "
             f"{settings.min_reaction_s:g}-{settings.response_timeout_s:g} s, screen score "
             f"> {settings.max_screen_score:g} in > {settings.max_screen_share:.0%} of frames, "
             f"border in > {settings.max_border_share:.0%}.",
             "- The action and border thresholds were placed on the astronaut's simulated "
             "frames (development); the screen threshold after looking at these faces' "
             "scores, so the screen figures are not held out.", "",
             "| PAI species | sessions | accepted as live | APCER | how they were stopped |",
             "|---|---|---|---|---|"]
    for species in Species:
        if species is Species.BONA_FIDE:
            continue
        rows = [r for r in runs if r.species is species]
        errors, n = rate(rows, attack=True)
        how: dict[str, int] = {}
        for r in rows:
            for flag in filter(None, r.flagged.split(";")):
                how[flag] = how.get(flag, 0) + 1
        lines.append(f"| {species.value} | {n} | {errors} | {errors / max(1, n):.1%} | "
                     + ", ".join(f"{k} x{v}" for k, v in sorted(how.items())) + " |")
    bona = [r for r in runs if r.species is Species.BONA_FIDE]
    errors, n = rate(bona, attack=False)
    reasons = ", ".join(sorted({r.flagged for r in bona if r.flagged})) or "none"
    lines += ["", f"**BPCER** (bona fide sessions flagged): {errors} of {n} = "
              f"{errors / max(1, n):.1%} ({reasons}).", ""]
    spans = [r.challenge_s for r in bona if r.challenge_s is not None]
    if spans:
        lines += [f"**Challenge duration** (bona fide, first prompt until the verifier stops "
                  f"asking, frame time): median {statistics.median(spans):.2f} s, longest "
                  f"{max(spans):.2f} s. The simulated applicant reacts 0.6 s after each "
                  "prompt; a turn takes 1.4 s there and back, leaning closer 1.8 s.", ""]
    with_l = [r.captured_s for r in timed if r.captured_s is not None]
    without = [r.captured_s for r in off if r.captured_s is not None]
    if with_l and without:
        added = statistics.median(with_l) - statistics.median(without)
        lines += [f"**Time added to a session** (astronaut frames, which pass the counter "
                  f"photo requirements; the shared photos' backgrounds do not, so they are "
                  f"never captured): median time to the accepted photo "
                  f"{statistics.median(with_l):.2f} s with the challenge ({len(with_l)} runs) "
                  f"against {statistics.median(without):.2f} s without ({len(without)}) = "
                  f"**{added:.2f} s**. A real applicant's time depends on how fast they "
                  "follow the prompt. Liveness step cost per frame on this machine: "
                  f"{cost_ms:.1f} ms (passive cues, median), besides reading the session's "
                  "stored frames.", ""]
    lines += ["Per session: species, face, liveness flag, actions asked, seconds from the "
              "first prompt until the verifier stopped asking, frames.", "",
              "| species | face | flag | actions | challenge s | frames |",
              "|---|---|---|---|---|---|"]
    for r in runs:
        span = "-" if r.challenge_s is None else f"{r.challenge_s:.2f}"
        lines.append(f"| {r.species.value} | {r.face} | {r.flagged or '-'} | "
                     f"{' then '.join(r.actions) or '-'} | {span} | {r.frames} |")
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data",
                    help="shared data folder (default $LEBONG_SHARED_DATA or ../shared/data)")
    ap.add_argument("--faces", type=int, default=8, help="identities to use (8)")
    ap.add_argument("--fps", type=float, default=5.0, help="frames per second sent (5)")
    ap.add_argument("--timing-runs", type=int, default=3,
                    help="astronaut sessions with and without the challenge, timed (3)")
    ap.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT-liveness.md")
    args = ap.parse_args()
    base = load_config()
    settings = dataclasses.replace(base.liveness, enabled=True)
    config = dataclasses.replace(base, liveness=settings)
    models = load_models(config.models_registry)
    folder = data_dir(args.data)
    faces = portraits(folder, models, args.faces)
    source = "deepface_pairs" if folder.is_dir() else "astronaut only: shared data absent"
    timeout = settings.response_timeout_s
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        store = CaseStore(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        on_sessions = CounterSessions(store, models, config)
        off_sessions = CounterSessions(store, models, dataclasses.replace(
            config, liveness=dataclasses.replace(settings, enabled=False)))
        for i, (name, portrait) in enumerate(faces):
            rng = np.random.default_rng(i)
            wearer = faces[(i + 1) % len(faces)][1]
            video = Performer(portrait, rng, respond=False,
                              script=(("blink", 0.4), ("turn_left", 1.0), ("move_closer", 3.0)))
            presenters: list[tuple[Species, object]] = [
                (Species.BONA_FIDE, Performer(portrait, rng)),
                *((s, Attack(s, portrait, rng, seed=100 * i + k, attacker=wearer,
                             video=video if s is Species.VIDEO else None))
                  for k, s in enumerate((Species.PRINT, Species.SCREEN, Species.VIDEO,
                                         Species.MASK)))]
            for species, presenter in presenters:
                run = run_session(on_sessions, presenter, species, name, args.fps,
                                  2 * timeout + 2, i)
                runs.append(run)
                print(f"{species.value:32s} {name:6s} {run.flagged or '-':40s} "
                      f"{' '.join(run.actions):24s} {run.seconds:5.1f}s", flush=True)
        # Time to the photo with and without the challenge, on frames the photo rules accept.
        astronaut = astronaut_portrait(models)
        timed, off = [], []
        for i in range(args.timing_runs):
            for sessions, into in ((on_sessions, timed), (off_sessions, off)):
                into.append(run_session(sessions, Performer(astronaut, np.random.default_rng(i)),
                                        Species.BONA_FIDE, "astronaut", args.fps,
                                        2 * timeout + 6, 1000 + i, until_capture=True))
        store.close()
    cost = step_cost(models, config, faces[0][1], 30)
    report(runs, timed, off, cost, settings, len(faces), source, args.fps, args.report)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
