"""Generated minutiae sets with known ground truth, for gallery scale tests and benchmarks:
plausible fingers (not real ones: no ridge structure behind them, no elastic distortion) and
the same finger pressed again, written as ISO/IEC 19794-2 records that NBIS loads. Thousands
of enrolled cases cost milliseconds each this way, where rendering and extracting a print
costs a quarter of a second."""

from __future__ import annotations

import struct

import numpy as np

PLATEN_W, PLATEN_H = 300, 400


def generated_finger(rng: np.random.Generator) -> np.ndarray:
    """(n, 3) x, y, direction: minutiae of a plausible finger (not a real one)."""
    n = int(np.clip(rng.normal(45, 10), 25, 70))
    cx, cy = rng.normal(PLATEN_W / 2, 15), rng.normal(PLATEN_H * 0.45, 20)
    pts: list[tuple[float, float]] = []
    while len(pts) < n:  # in an ellipse, at least 9 px (one ridge period) apart
        x, y = rng.uniform(20, PLATEN_W - 20), rng.uniform(20, PLATEN_H - 20)
        if ((x - cx) / 125) ** 2 + ((y - cy) / 175) ** 2 > 1:
            continue
        if all((x - a) ** 2 + (y - b) ** 2 > 81 for a, b in pts):
            pts.append((x, y))
    xy = np.array(pts)
    # Ridge flow of a loop: half the angle around the core, plus a slow random wobble.
    flow = 0.5 * np.degrees(np.arctan2(xy[:, 1] - cy, xy[:, 0] - cx)) + rng.uniform(0, 180)
    flow += 15 * np.sin(xy[:, 0] / rng.uniform(40, 80) + rng.uniform(0, 6))
    direction = (flow + 180 * rng.integers(0, 2, n) + rng.normal(0, 6, n)) % 360
    return np.column_stack([xy, direction])


def pressed_again(m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    turn = rng.uniform(-30, 30)
    t = np.radians(turn)
    centre = np.array([PLATEN_W / 2, PLATEN_H / 2])
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    xy = (m[:, :2] - centre) @ rot.T + centre + rng.uniform(-40, 40, 2)
    xy += rng.normal(0, 4, xy.shape)
    direction = (m[:, 2] + turn + rng.normal(0, 8, len(m))) % 360
    kept = rng.random(len(m)) > rng.uniform(0.2, 0.3)
    moved = np.column_stack([xy, direction])[kept]
    extra = int(len(m) * rng.uniform(0.1, 0.2))
    spurious = np.column_stack([rng.uniform(20, PLATEN_W - 20, extra),
                                rng.uniform(20, PLATEN_H - 20, extra), rng.uniform(0, 360, extra)])
    out = np.concatenate([moved, spurious])
    inside = (out[:, 0] >= 0) & (out[:, 0] < PLATEN_W) & (out[:, 1] >= 0) & (out[:, 1] < PLATEN_H)
    return out[inside]


def iso_record(m: np.ndarray) -> bytes:
    """ISO/IEC 19794-2:2005 in the layout nbis-py writes (24-byte header, 2-byte count)."""
    body = b"".join(struct.pack(">HHBB", (1 << 14) | int(x), int(y),
                                int(round(a / (360 / 256))) % 256, 60) for x, y, a in m)
    length = 26 + len(body)
    return (b"FMR\x00 20\x00" + struct.pack(">IHHHHH", length, 0, PLATEN_W, PLATEN_H, 0, 0)
            + b"\x00\x00" + struct.pack(">H", len(m)) + body)
