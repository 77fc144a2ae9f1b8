"""Decision thresholds derived from measured impostor distributions, and the error rates the
benchmark reports.

A threshold for "FMR=1e-3" is the distance below which at most one impostor pair in a
thousand falls, measured on impostor pairs of faces like the applicants'. Estimating it needs
at least 1/FMR impostor pairs (and many more for a stable value): `threshold_at_fmr` refuses
fewer, and `calibrate` asks for `min_expected_matches`/FMR (3 by default: the "rule of three",
with no impostor match among 3/FMR pairs the 95 % upper bound on the FMR is FMR itself).

Thresholds are kept per comparison kind (`COMPARISONS`: a card photo against the live face
behaves differently from two digital photos), with one set for any comparison (the strictest
measured) that kinds without their own measurement fall back to. The committed file
(models/face_thresholds.toml) is written by `bench/faces.py` or `verifier calibrate-faces`,
with the data sets, pair counts and date it came from.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_POINT_NAME = re.compile(r"^FMR=(\d(?:\.\d+)?e-\d+)$")

# Comparison kinds a threshold may be measured for: "plain" is two digital photos of the
# kind a camera takes (live captures, the 1:N gallery); the others a document's portrait
# against the live capture.
COMPARISONS = ("plain", "card_vs_live", "passport_vs_live", "upload_vs_live")
ANY = "any"  # the operating points that hold for every comparison kind


@dataclass(frozen=True)
class OperatingPoint:
    name: str  # "FMR=1e-3"
    fmr: float
    distance: float  # a pair matches when its embedding distance is <= this
    impostor_pairs: int  # how many impostor pairs the threshold was measured on
    comparison: str = ANY  # the comparison kind it was measured for


@dataclass(frozen=True)
class Calibration:
    model: str  # registry name of the embedding model
    model_sha256: str  # thresholds hold for this exact file only
    derivation: str  # how and on what the thresholds were measured
    points: dict[str, OperatingPoint]  # for any comparison
    flip_tta: bool = False  # embeddings averaged with the mirror image's (must match config)
    # comparison kind -> its own points, where the data measured them
    comparisons: dict[str, dict[str, OperatingPoint]] = field(default_factory=dict)

    def point(self, name: str, comparison: str | None = None) -> OperatingPoint:
        """The point measured for `comparison` when there is one, else the point for any
        comparison (which is the strictest of those measured)."""
        own = self.comparisons.get(comparison or ANY, {})
        if name in own:
            return own[name]
        try:
            return self.points[name]
        except KeyError:
            raise ValueError(f"operating point {name!r} is not calibrated; calibrated: "
                             f"{', '.join(sorted(self.points))}") from None


def fmr_of(name: str) -> float:
    found = _POINT_NAME.match(name)
    if not found:
        raise ValueError(f"operating point {name!r} is not of the form 'FMR=1e-3'")
    return float(found.group(1))


def _points(table: Mapping[str, object], comparison: str) -> dict[str, OperatingPoint]:
    points = {}
    for name, fields in table.items():
        if not isinstance(fields, Mapping):
            raise ValueError(f"operating point {name!r} is not a table")
        distance = float(fields["distance"])
        if not 0.0 < distance < 2.0:  # unit-norm embeddings are at most 2 apart
            raise ValueError(f"distance {distance} out of range")
        points[name] = OperatingPoint(name=name, fmr=fmr_of(name), distance=distance,
                                      impostor_pairs=int(fields["impostor_pairs"]),
                                      comparison=comparison)
    return points


def load_calibration(path: Path) -> Calibration:
    """Read a thresholds file; ValueError naming the problem when it is unusable."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"face thresholds file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"face thresholds file {path} is not valid TOML: {exc}") from None
    try:
        comparisons = {}
        for kind, table in data.get("comparisons", {}).items():
            if kind not in COMPARISONS:
                raise ValueError(f"unknown comparison kind {kind!r}; known: "
                                 f"{', '.join(COMPARISONS)}")
            comparisons[kind] = _points(table["operating_points"], kind)
        flip = data.get("flip_tta", False)
        if not isinstance(flip, bool):
            raise ValueError(f"flip_tta must be true or false, got {flip!r}")
        return Calibration(model=str(data["model"]), model_sha256=str(data["model_sha256"]),
                           derivation=str(data["derivation"]),
                           points=_points(data["operating_points"], ANY), flip_tta=flip,
                           comparisons=comparisons)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"face thresholds file {path} is malformed: {exc!s}") from None


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _point_lines(points: Mapping[str, OperatingPoint], prefix: str) -> list[str]:
    lines = []
    for point in sorted(points.values(), key=lambda p: -p.fmr):
        lines += [f'[{prefix}operating_points."{point.name}"]', f"distance = {point.distance:.4f}",
                  f"impostor_pairs = {point.impostor_pairs}", ""]
    return lines


def write_calibration(path: Path, calibration: Calibration, comment: str = "") -> None:
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    lines += [f"model = {_toml_string(calibration.model)}",
              f"model_sha256 = {_toml_string(calibration.model_sha256)}",
              f"flip_tta = {'true' if calibration.flip_tta else 'false'}",
              f"derivation = {_toml_string(calibration.derivation)}", ""]
    lines += _point_lines(calibration.points, "")
    for kind in sorted(calibration.comparisons):
        lines += _point_lines(calibration.comparisons[kind], f"comparisons.{kind}.")
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)


def pairs_needed(fmr: float, min_expected_matches: float = 1.0) -> int:
    """Impostor pairs needed to measure `fmr`: enough that `min_expected_matches` impostor
    pairs would match at it."""
    return math.ceil(min_expected_matches / fmr - 1e-9)


def threshold_at_fmr(impostor_distances: np.ndarray, fmr: float,
                     min_expected_matches: float = 1.0) -> float:
    """The largest distance threshold (4 decimals, rounded down) at which at most
    `fmr` x N of the N impostor pairs match (distance <= threshold)."""
    d = np.sort(np.asarray(impostor_distances, dtype=np.float64))
    needed = pairs_needed(fmr, min_expected_matches)
    if d.size < needed:
        raise ValueError(f"{d.size} impostor pairs cannot measure FMR {fmr:g}; "
                         f"need at least {needed}")
    allowed = int(math.floor(fmr * d.size + 1e-9))
    # Just below the (allowed+1)-th smallest impostor distance, so ties there do not match.
    return math.floor(float(np.nextafter(d[allowed], -np.inf)) * 1e4) / 1e4


def point_name(fmr: float) -> str:
    return f"FMR={fmr:.0e}".replace("e-0", "e-")


@dataclass(frozen=True)
class Calibrated:
    """What `calibrate` measured, and a line per FMR saying which groups set it."""

    points: dict[str, OperatingPoint]
    comparisons: dict[str, dict[str, OperatingPoint]]
    notes: tuple[str, ...]


def _capped(name: str, fmr: float, kind: str, distance: float, pairs: int,
            looser: OperatingPoint | None) -> OperatingPoint:
    # A stricter FMR measured only on groups with far-apart impostors must not come out
    # looser than a measured looser FMR.
    if looser is not None and looser.distance < distance:
        return OperatingPoint(name, fmr, looser.distance, looser.impostor_pairs, kind)
    return OperatingPoint(name, fmr, distance, pairs, kind)


def calibrate(impostors: Mapping[tuple[str, str], np.ndarray], fmrs: tuple[float, ...],
              min_expected_matches: float = 3.0) -> Calibrated:
    """Thresholds from impostor distances keyed by (comparison kind, group), where a group
    is a population (e.g. Asian faces, LFW) measured separately so that no group exceeds
    the FMR. A kind gets a point at an FMR only when every one of its groups has
    `pairs_needed(fmr, min_expected_matches)` pairs; its distance is the smallest of its
    groups'. The points for any comparison take the smallest distance over every group
    that can measure the FMR. A stricter FMR never gets a larger distance than a looser one."""
    kinds = sorted({kind for kind, _ in impostors})
    unknown = [k for k in kinds if k not in COMPARISONS]
    if unknown:
        raise ValueError(f"unknown comparison kind {unknown[0]!r}; known: {', '.join(COMPARISONS)}")
    finite = {key: np.asarray(d, np.float64)[np.isfinite(d)] for key, d in impostors.items()}
    points: dict[str, OperatingPoint] = {}
    comparisons: dict[str, dict[str, OperatingPoint]] = {k: {} for k in kinds}
    looser: dict[str, OperatingPoint] = {}
    notes = []
    for fmr in sorted(fmrs, reverse=True):
        name = point_name(fmr)
        needed = pairs_needed(fmr, min_expected_matches)
        measured = {key: threshold_at_fmr(d, fmr, min_expected_matches)
                    for key, d in finite.items() if d.size >= needed}
        parts = [f"{k}/{g} " + (f"{measured[(k, g)]:.4f}" if (k, g) in measured
                                else "not measurable") + f" ({finite[(k, g)].size} pairs)"
                 for k, g in sorted(finite)]
        for kind in kinds:
            groups = [key for key in finite if key[0] == kind]
            if all(key in measured for key in groups):
                key = min(groups, key=measured.__getitem__)
                point = _capped(name, fmr, kind, measured[key], finite[key].size,
                                looser.get(kind))
                comparisons[kind][name] = looser[kind] = point
        if measured:
            key = min(measured, key=measured.__getitem__)
            point = _capped(name, fmr, ANY, measured[key], finite[key].size, looser.get(ANY))
            points[name] = looser[ANY] = point
        chosen = ", ".join(f"{k} {comparisons[k][name].distance:.4f}" for k in kinds
                           if name in comparisons[k])
        notes.append(f"{name} (needs {needed} impostor pairs a group): {', '.join(parts)} -> "
                     + (f"any {points[name].distance:.4f}" if name in points else "none")
                     + (f"; {chosen}" if chosen else ""))
    if not points:
        raise ValueError("no FMR asked for can be measured: every group has fewer than "
                         f"{pairs_needed(max(fmrs), min_expected_matches)} impostor pairs "
                         f"for FMR {max(fmrs):g} ({max(d.size for d in finite.values())} at most)"
                         if finite else "no impostor pairs to calibrate on")
    return Calibrated(points=points, comparisons={k: v for k, v in comparisons.items() if v},
                      notes=tuple(notes))


@dataclass(frozen=True)
class ErrorRates:
    """Verification error rates of one score set (distances: lower is more alike)."""

    genuine_pairs: int
    impostor_pairs: int
    roc_auc: float
    eer: float
    fnmr_at_fmr: dict[float, float]  # FMR -> FNMR at the threshold that FMR sets here


def fmr_fnmr(genuine: np.ndarray, impostor: np.ndarray, distance: float) -> tuple[float, float]:
    """(FMR, FNMR) when pairs with distance <= `distance` match."""
    return (float(np.mean(impostor <= distance)) if impostor.size else float("nan"),
            float(np.mean(genuine > distance)) if genuine.size else float("nan"))


def error_rates(genuine: np.ndarray, impostor: np.ndarray,
                fmrs: tuple[float, ...] = (1e-2, 1e-3)) -> ErrorRates:
    g = np.asarray(genuine, dtype=np.float64)
    i = np.asarray(impostor, dtype=np.float64)
    if g.size == 0 or i.size == 0:
        raise ValueError("error rates need genuine and impostor pairs")
    from scipy.stats import rankdata

    # AUC = P(an impostor pair is farther apart than a genuine pair), ties counted half.
    ranks = rankdata(np.concatenate([g, i]))
    auc = float((ranks[g.size:].sum() - i.size * (i.size + 1) / 2) / (g.size * i.size))
    thresholds = np.unique(np.concatenate([g, i]))
    fmr = np.searchsorted(np.sort(i), thresholds, side="right") / i.size
    fnmr = 1.0 - np.searchsorted(np.sort(g), thresholds, side="right") / g.size
    k = int(np.argmin(np.abs(fmr - fnmr)))
    eer = float((fmr[k] + fnmr[k]) / 2)
    at = {}
    for target in fmrs:
        ok = fmr <= target + 1e-12
        # With fewer than 1/target impostors the rate is not measurable: NaN, not a guess.
        # No threshold reaching the target means rejecting everything: FNMR 1.
        if i.size < 1 / target:
            at[target] = float("nan")
        else:
            at[target] = float(fnmr[ok].min()) if ok.any() else 1.0
    return ErrorRates(genuine_pairs=int(g.size), impostor_pairs=int(i.size), roc_auc=auc,
                      eer=eer, fnmr_at_fmr=at)
