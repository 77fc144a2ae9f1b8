"""Decision thresholds derived from measured impostor distributions, and the error rates the
benchmark reports.

A threshold for "FMR=1e-3" is the distance below which at most one impostor pair in a
thousand falls, measured on impostor pairs of faces like the applicants'. Estimating it needs
at least 1/FMR impostor pairs (and many more for a stable value): `threshold_at_fmr` refuses
fewer. The committed file (models/face_thresholds.toml) is written by `bench/faces.py`, with
the data sets, pair counts and date it came from.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_POINT_NAME = re.compile(r"^FMR=(\d(?:\.\d+)?e-\d+)$")


@dataclass(frozen=True)
class OperatingPoint:
    name: str  # "FMR=1e-3"
    fmr: float
    distance: float  # a pair matches when its embedding distance is <= this
    impostor_pairs: int  # how many impostor pairs the threshold was measured on


@dataclass(frozen=True)
class Calibration:
    model: str  # registry name of the embedding model
    model_sha256: str  # thresholds hold for this exact file only
    derivation: str  # how and on what the thresholds were measured
    points: dict[str, OperatingPoint]

    def point(self, name: str) -> OperatingPoint:
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
        points = {}
        for name, fields in data["operating_points"].items():
            distance = float(fields["distance"])
            if not 0.0 < distance < 2.0:  # unit-norm embeddings are at most 2 apart
                raise ValueError(f"distance {distance} out of range")
            points[name] = OperatingPoint(name=name, fmr=fmr_of(name), distance=distance,
                                          impostor_pairs=int(fields["impostor_pairs"]))
        return Calibration(model=str(data["model"]), model_sha256=str(data["model_sha256"]),
                           derivation=str(data["derivation"]), points=points)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"face thresholds file {path} is malformed: {exc!s}") from None


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_calibration(path: Path, calibration: Calibration, comment: str = "") -> None:
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    lines += [f"model = {_toml_string(calibration.model)}",
              f"model_sha256 = {_toml_string(calibration.model_sha256)}",
              f"derivation = {_toml_string(calibration.derivation)}", ""]
    for point in sorted(calibration.points.values(), key=lambda p: -p.fmr):
        lines += [f'[operating_points."{point.name}"]', f"distance = {point.distance:.4f}",
                  f"impostor_pairs = {point.impostor_pairs}", ""]
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)


def threshold_at_fmr(impostor_distances: np.ndarray, fmr: float) -> float:
    """The largest distance threshold (4 decimals, rounded down) at which at most
    `fmr` x N of the N impostor pairs match (distance <= threshold)."""
    d = np.sort(np.asarray(impostor_distances, dtype=np.float64))
    if d.size < math.ceil(1.0 / fmr):
        raise ValueError(f"{d.size} impostor pairs cannot measure FMR {fmr:g}; "
                         f"need at least {math.ceil(1.0 / fmr)}")
    allowed = int(math.floor(fmr * d.size + 1e-9))
    # Just below the (allowed+1)-th smallest impostor distance, so ties there do not match.
    return math.floor(float(np.nextafter(d[allowed], -np.inf)) * 1e4) / 1e4


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
