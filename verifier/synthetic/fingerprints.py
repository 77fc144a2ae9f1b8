"""Synthetic fingerprints in the manner of SFinGe (Cappelli, Maio, Maltoni): labelled fingers
without personal data, for tests, the demo, the SBI simulator and benchmarks.

A *master* fingerprint is grown once per finger: an orientation field from singular points
(Sherlock-Monro zero-pole model: loops, whorls, arches), one ridge period, and iterative
Gabor filtering from random seeds until ridges fill the pattern; minutiae appear where growing
ridge fronts meet. An *impression* is one press of that finger on a 500 ppi sensor: a contact
area that depends on pressure and placement, rotation and displacement, a smooth elastic
distortion, dry or wet skin (thinner or thicker ridges), and sensor noise and blur.

Everything is seeded: `master_fingerprint(finger_id)` is the same finger on every machine,
and `impression(master, k)` is the same k-th press.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

# 500 ppi, the size of a single-finger flat scanner's platen (about 0.6 x 0.8 inch).
IMAGE_WIDTH_PX = 300
IMAGE_HEIGHT_PX = 400
# The master is larger than an impression so that displacement never runs out of ridges.
_MARGIN_PX = 60
_ORIENTATION_BINS = 16
_GROWTH_ITERATIONS = 10
_GROWTH_SCALE = 2
_ORIENTATION_WOBBLE_RAD = 1.0

PATTERN_CLASSES = ("left_loop", "right_loop", "whorl", "arch", "tented_arch")


@dataclass(frozen=True)
class MasterFingerprint:
    finger_id: int
    pattern: str
    ridge_period_px: float
    ridges: np.ndarray  # float32 in [-1, 1], ridges positive; (H + 2 margin) x (W + 2 margin)


@dataclass(frozen=True)
class ImpressionConditions:
    """How one press differs from the master (all drawn from the impression's seed)."""

    rotation_deg: float
    shift_px: tuple[float, float]
    distortion_px: float  # peak elastic displacement
    pressure: float  # -1 dry (thin, broken ridges) .. +1 wet (thick, merged ridges)
    contact_scale: float  # contact area relative to a normal press
    noise_sigma: float  # grey levels


def _singular_points(pattern: str, rng: np.random.Generator, w: int, h: int
                     ) -> tuple[list[complex], list[complex]]:
    cx, cy = w / 2 + rng.normal(0, w * 0.04), h * 0.42 + rng.normal(0, h * 0.04)
    if pattern == "left_loop":
        return [complex(cx, cy)], [complex(cx + w * 0.28, cy + h * 0.30)]
    if pattern == "right_loop":
        return [complex(cx, cy)], [complex(cx - w * 0.28, cy + h * 0.30)]
    if pattern == "whorl":
        d = h * rng.uniform(0.05, 0.09)
        return ([complex(cx, cy - d), complex(cx, cy + d)],
                [complex(cx - w * 0.32, cy + h * 0.32), complex(cx + w * 0.32, cy + h * 0.32)])
    if pattern == "tented_arch":
        return [complex(cx, cy)], [complex(cx, cy + h * 0.22)]
    return [], []


def _orientation_field(pattern: str, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Ridge orientation in radians (0 = horizontal ridges), per pixel of a w x h grid (every
    shape parameter is a proportion of w and h, so any grid size gives the same pattern)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    z = xs + 1j * ys
    if pattern == "arch":
        # Ridges follow a bump y = a exp(-x^2/s^2) that flattens towards the finger's tip.
        s = w * rng.uniform(0.25, 0.35)
        a = h * rng.uniform(0.08, 0.15) * np.clip(1.0 - ys / h, 0.2, 1.0)
        dx = xs - w / 2
        theta = np.arctan(-2 * a * dx / s**2 * np.exp(-dx**2 / s**2))
    else:
        cores, deltas = _singular_points(pattern, rng, w, h)
        theta = np.zeros((h, w), np.float32)
        for c in cores:
            theta += np.angle(z - c) / 2
        for d in deltas:
            theta -= np.angle(z - d) / 2
    # Every finger's flow departs smoothly from its class template, as real ones do; without
    # this, impostor prints of one class share so much structure that Bozorth3 scores them
    # far higher than real impostors.
    wobble = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0),
                              max(w, h) / 8)
    theta = theta + wobble / (np.abs(wobble).max() + 1e-6) * _ORIENTATION_WOBBLE_RAD
    return np.mod(theta, np.pi).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _gabor_bank(period_px: float) -> tuple[np.ndarray, ...]:
    size = int(2 * round(period_px) + 1)
    sigma = 0.55 * period_px
    kernels = []
    for k in range(_ORIENTATION_BINS):
        ridge_angle = np.pi * k / _ORIENTATION_BINS
        # cv2's theta is the direction of the sinusoid's wave vector: normal to the ridges.
        kern = cv2.getGaborKernel((size, size), sigma, ridge_angle + np.pi / 2, period_px,
                                  1.0, 0, ktype=cv2.CV_32F)
        kern -= kern.mean()
        kernels.append(kern / np.abs(kern).sum())
    return tuple(kernels)


@functools.lru_cache(maxsize=64)
def master_fingerprint(finger_id: int, pattern: str | None = None) -> MasterFingerprint:
    """The master print of finger `finger_id` (deterministic)."""
    rng = np.random.default_rng([0x5F16E, finger_id])
    pattern = pattern or str(rng.choice(PATTERN_CLASSES, p=[0.32, 0.32, 0.26, 0.05, 0.05]))
    if pattern not in PATTERN_CLASSES:
        raise ValueError(f"unknown pattern class {pattern!r}; one of {', '.join(PATTERN_CLASSES)}")
    w, h = IMAGE_WIDTH_PX + 2 * _MARGIN_PX, IMAGE_HEIGHT_PX + 2 * _MARGIN_PX
    period = float(rng.uniform(8.5, 10.5))
    # Ridges are grown at half resolution (a quarter of the pixels and smaller kernels, about
    # 6x faster) and then enlarged; the ridge shapes, and so the minutiae, are unchanged.
    gw, gh = w // _GROWTH_SCALE, h // _GROWTH_SCALE
    theta = _orientation_field(pattern, rng, gw, gh)
    bins = np.round(theta / np.pi * _ORIENTATION_BINS).astype(np.int32) % _ORIENTATION_BINS
    # Sparse random seeds: ridges grow outwards from them and meet in minutiae.
    img = np.zeros((gh, gw), np.float32)
    seeds = rng.integers(0, [gh, gw], size=(int(w * h / 900), 2))
    img[seeds[:, 0], seeds[:, 1]] = rng.choice([-1.0, 1.0], size=len(seeds))
    bank = _gabor_bank(round(period / _GROWTH_SCALE, 2))
    for _ in range(_GROWTH_ITERATIONS):
        out = np.zeros_like(img)
        for k, kern in enumerate(bank):
            mask = bins == k
            out[mask] = cv2.filter2D(img, -1, kern, borderType=cv2.BORDER_REFLECT)[mask]
        img = np.clip(out * 12.0, -1.0, 1.0)
    img = np.clip(cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC) * 1.5, -1.0, 1.0)
    return MasterFingerprint(finger_id=finger_id, pattern=pattern, ridge_period_px=period,
                             ridges=img)


def impression_conditions(finger_id: int, impression_index: int,
                          difficulty: float = 1.0) -> ImpressionConditions:
    """The seeded conditions of one press; `difficulty` scales every deviation (0 = ideal)."""
    rng = np.random.default_rng([0x1A9E, finger_id, impression_index])
    d = float(difficulty)
    return ImpressionConditions(
        rotation_deg=float(rng.normal(0, 8) * d),
        shift_px=(float(rng.normal(0, 14) * d), float(rng.normal(0, 18) * d)),
        distortion_px=float(abs(rng.normal(0, 3.0)) * d),
        pressure=float(np.clip(rng.normal(0, 0.45) * d, -1, 1)),
        contact_scale=float(np.clip(1.0 + rng.normal(0, 0.1) * d, 0.7, 1.2)),
        noise_sigma=float(4.0 + abs(rng.normal(0, 6.0)) * d))


def render_impression(master: MasterFingerprint, conditions: ImpressionConditions,
                      seed: int = 0) -> np.ndarray:
    """One press of `master` under `conditions`: 8-bit grey, dark ridges on a light
    background, IMAGE_HEIGHT_PX x IMAGE_WIDTH_PX at 500 ppi."""
    rng = np.random.default_rng([0x9E55, master.finger_id, seed])
    h, w = IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX
    big_h, big_w = master.ridges.shape
    # Output pixel -> master pixel: rotate about the centre, shift, then a smooth warp.
    angle = np.deg2rad(conditions.rotation_deg)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xs - w / 2, ys - h / 2
    map_x = np.cos(angle) * u - np.sin(angle) * v + big_w / 2 + conditions.shift_px[0]
    map_y = np.sin(angle) * u + np.cos(angle) * v + big_h / 2 + conditions.shift_px[1]
    if conditions.distortion_px > 0:
        for grid in (map_x, map_y):
            field = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 40)
            grid += field / (np.abs(field).max() + 1e-6) * conditions.distortion_px
    ridges = cv2.remap(master.ridges, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    # Pressure moves the ridge/valley boundary: dry skin leaves thin ridges, wet skin thick.
    ink = np.clip((ridges + 0.35 * conditions.pressure) * 1.6, -1.0, 1.0)
    ink = (ink + 1.0) / 2.0
    # Contact area: an ellipse (the fingertip), softly edged, placed with the shift.
    cx = w / 2 - conditions.shift_px[0] * 0.3
    cy = h * 0.52 - conditions.shift_px[1] * 0.3
    ax, ay = w * 0.40 * conditions.contact_scale, h * 0.44 * conditions.contact_scale
    contact = np.clip((1.0 - ((xs - cx) / ax) ** 2 - ((ys - cy) / ay) ** 2) * 4.0, 0.0, 1.0)
    contact = cv2.GaussianBlur(contact, (0, 0), 3)
    darkness = 175.0 * ink * contact
    grey = 235.0 - darkness + rng.normal(0, conditions.noise_sigma, (h, w))
    grey = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 0.7)
    return np.clip(grey, 0, 255).astype(np.uint8)


def impression(finger_id: int, impression_index: int, difficulty: float = 1.0) -> np.ndarray:
    """The `impression_index`-th press of finger `finger_id` (deterministic)."""
    return render_impression(master_fingerprint(finger_id),
                             impression_conditions(finger_id, impression_index, difficulty),
                             seed=impression_index)


def encode_png(grey: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", grey)
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()
