"""Camera frames of a person answering the liveness challenge, and of presentation attacks
(ISO/IEC 30107 "PAI species") trying to: a printed photo, a photo on a phone screen, a
replayed video on a screen, and a cut-out mask made from a photo.

Everything is simulated from one still portrait: a head turn is a 2.5-D warp of the face
over an ellipsoid with a nose (so the nose moves across the face as it does on a head), a
blink pulls the upper eyelids down, coming closer scales the face. A print or a mask is
flat: turning it only narrows it. A screen adds its pixel grid (beating with the camera's
into moiré) and refresh bands. Real attacks differ (paper, screens, cameras, lighting,
attackers who practise); the bench report says so.

Each performer is driven like an applicant: `frame(t_s, action)` is the image at time t
while `action` (or None) is what the station last showed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import cv2
import numpy as np

FRAME_SIZE = (640, 480)


class Species(Enum):
    BONA_FIDE = "bona fide"
    PRINT = "printed photo"
    SCREEN = "photo on a phone screen"
    VIDEO = "replayed video"
    MASK = "cut-out mask made from a photo"


@dataclass(frozen=True)
class Portrait:
    """A still photo and where its eyes are (image-left eye first)."""

    rgb: np.ndarray
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]

    @property
    def eye_mid(self) -> tuple[float, float]:
        return ((self.left_eye[0] + self.right_eye[0]) / 2,
                (self.left_eye[1] + self.right_eye[1]) / 2)

    @property
    def ied(self) -> float:
        return math.dist(self.left_eye, self.right_eye)


def head_turn(rgb: np.ndarray, eye_mid: tuple[float, float], ied: float, yaw_deg: float,
              flat: bool = False) -> np.ndarray:
    """The head turned by `yaw_deg` (> 0: towards the image's right) about a vertical axis:
    each point of an ellipsoid head with a nose moves by z sin(yaw), the nose (nearest the
    camera) most. `flat`: a sheet of paper, which only narrows (x cos(yaw))."""
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = eye_mid
    theta = math.radians(yaw_deg)
    v = (ys - cy) / ied

    def shift(x: np.ndarray) -> np.ndarray:
        u = (x - cx) / ied
        if flat:
            return (u * math.cos(theta) - u) * ied
        r2 = (u / 1.25) ** 2 + ((v - 0.5) / 2.0) ** 2
        z = (1.4 * np.sqrt(np.clip(1 - r2, 0, 1))
             + 0.5 * np.exp(-((u / 0.2) ** 2 + ((v - 0.55) / 0.4) ** 2)))
        weight = np.clip((1.6 - np.sqrt(r2)) / 0.6, 0, 1)  # the background stays put
        return (u * math.cos(theta) + z * math.sin(theta) - u) * ied * weight

    source = xs - shift(xs)
    for _ in range(3):  # invert the forward shift by fixed-point iteration
        source = xs - shift(source)
    return cv2.remap(rgb, source.astype(np.float32), ys, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT101)


def close_eyes(rgb: np.ndarray, eyes: tuple[tuple[float, float], ...], ied: float,
               amount: float = 1.1) -> np.ndarray:
    """The upper eyelids pulled down over the eyes (`amount` 1: closed)."""
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = np.zeros_like(xs)
    for ex, ey in eyes:
        dy += amount * 0.2 * ied * np.exp(-(((xs - ex) / (0.22 * ied)) ** 4
                                            + ((ys - ey) / (0.13 * ied)) ** 4))
    return cv2.remap(rgb, xs, (ys - dy).astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT101)


def _affine(scale: float, src: tuple[float, float], dst: tuple[float, float]) -> np.ndarray:
    return np.float32([[scale, 0, dst[0] - scale * src[0]], [0, scale, dst[1] - scale * src[1]]])


def _map(m: np.ndarray, p: tuple[float, float]) -> tuple[float, float]:
    return (float(m[0, 0] * p[0] + m[0, 2]), float(m[1, 1] * p[1] + m[1, 2]))


@dataclass
class Pose:
    """Where the face is and what it does at one moment."""

    ied_px: float
    centre: tuple[float, float]
    yaw_deg: float = 0.0
    eyes_closed: float = 0.0  # 0 open, 1 closed


def render_face(portrait: Portrait, pose: Pose, size: tuple[int, int] = FRAME_SIZE,
                flat: bool = False) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """The portrait scaled and placed so its eye midpoint is at `pose.centre` with the
    inter-eye distance `pose.ied_px` (edges filled by reflection, so no seam shows), then
    blinked and turned; and where its eyes are in the frame."""
    m = _affine(pose.ied_px / portrait.ied, portrait.eye_mid, pose.centre)
    frame = cv2.warpAffine(portrait.rgb, m, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT101)
    eyes = (_map(m, portrait.left_eye), _map(m, portrait.right_eye))
    if pose.eyes_closed > 0:
        frame = close_eyes(frame, eyes, pose.ied_px, 1.1 * pose.eyes_closed)
    if pose.yaw_deg:
        frame = head_turn(frame, pose.centre, pose.ied_px, pose.yaw_deg, flat=flat)
    return frame, eyes


# How a person answers each action: (reaction delay s, duration s) and the peak.
TURN_YAW_DEG, CLOSER_GROWTH = 24.0, 1.35


@dataclass
class Performer:
    """A person at the counter (or, with `respond=False` and a script, a recorded video of
    one): sways a little, and answers each prompted action after `reaction_s`."""

    portrait: Portrait
    rng: np.random.Generator
    reaction_s: float = 0.6
    respond: bool = True
    script: tuple[tuple[str, float], ...] = ()  # (action, start s) for a recording
    ied_px: float | None = None  # None: the portrait's own (no resampling at rest)
    _started: dict[str, float] = field(default_factory=dict)
    _last_action: str | None = None
    _t0: float | None = None

    def pose(self, t_s: float, action: str | None) -> Pose:
        if self._t0 is None:
            self._t0 = t_s
        if self.respond and action is not None and action != self._last_action:
            self._last_action = action
            self._started[action] = t_s + self.reaction_s
        starts = dict(self._started)
        for name, start in self.script:
            starts[name] = self._t0 + start
        w, h = FRAME_SIZE
        sway = self.rng.normal(0, 1.2, 2)
        rest = self.ied_px or self.portrait.ied
        pose = Pose(ied_px=rest * (1 + self.rng.normal(0, 0.004)),
                    centre=(w / 2 + sway[0], 0.47 * h + sway[1]))
        for name, start in starts.items():
            k = t_s - start
            if k < 0:
                continue
            if name == "blink" and k < 0.25:
                pose.eyes_closed = 1.0
            elif name in ("turn_left", "turn_right") and k < 1.4:
                # Up in 0.5 s, held 0.4 s, back in 0.5 s.
                amount = min(1.0, k / 0.5, max(0.0, (1.4 - k) / 0.5))
                pose.yaw_deg = (1 if name == "turn_left" else -1) * TURN_YAW_DEG * amount
            elif name == "move_closer" and k < 1.8:
                # Leans in over 0.6 s, stays 0.6 s, and back (the photo needs the face
                # at its usual size again).
                amount = min(1.0, k / 0.6, max(0.0, (1.8 - k) / 0.6))
                pose.ied_px *= 1 + (CLOSER_GROWTH - 1) * amount
        return pose

    def frame(self, t_s: float, action: str | None) -> np.ndarray:
        return render_face(self.portrait, self.pose(t_s, action))[0]


def _room(seed: int) -> np.ndarray:
    """An office wall behind a held print or phone: a smooth gradient with some texture."""
    rng = np.random.default_rng(seed)
    w, h = FRAME_SIZE
    base = rng.uniform(120, 200, 3)
    yy = np.linspace(-1, 1, h)[:, None, None]
    wall = base + 25 * yy + rng.normal(0, 6, (h, w, 3))
    return np.clip(cv2.GaussianBlur(wall.astype(np.float32), (0, 0), 2), 0, 255)


def _screen(content: np.ndarray, pitch_px: float, angle_deg: float, phase: float) -> np.ndarray:
    """`content` as a display shows it to a camera: RGB subpixel stripes at `pitch_px`
    camera pixels per display pixel, resampled by the camera at a slight angle (the two
    grids beat into moiré), and the refresh's rolling bands."""
    h, w = content.shape[:2]
    cols, rows = max(8, int(w / pitch_px)), max(8, int(h / pitch_px))
    shown = cv2.resize(content, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)
    fine = np.repeat(np.repeat(shown, 3, axis=0), 3, axis=1)
    # Each subpixel column lights its own colour most; a darker gap row between pixels.
    # Seen slightly out of focus, so the grid's contrast is well below the panel's.
    stripes = np.full((3, 3, 3), 0.8, np.float32)
    for c in range(3):
        stripes[:, c, c] = 1.25
    stripes[2] *= 0.8
    fine *= np.tile(stripes, (rows, cols, 1))
    turn = cv2.getRotationMatrix2D((fine.shape[1] / 2, fine.shape[0] / 2), angle_deg, 1.0)
    fine = cv2.warpAffine(fine, turn, (fine.shape[1], fine.shape[0]),
                          borderMode=cv2.BORDER_REFLECT101)
    camera = cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR)
    bands = 1 + 0.06 * np.sin(2 * np.pi * (np.arange(h) / 37.0 + phase))
    return np.clip(camera * bands[:, None, None] * 0.9 + 20, 0, 255)


@dataclass
class Attack:
    """A presentation attack instrument held up to the camera by an attacker who tries
    to follow the prompts: moves it closer, turns it (a flat thing only narrows), and, for
    a mask, blinks behind its eye holes."""

    species: Species
    portrait: Portrait  # the victim's photo
    rng: np.random.Generator
    seed: int
    attacker: Portrait | None = None  # the face behind a mask
    video: Performer | None = None  # the recording a replay shows

    def __post_init__(self) -> None:
        self._room = _room(self.seed)
        self._wearer = Performer(self.attacker or self.portrait, self.rng)
        self._holder = Performer(self.portrait, self.rng, reaction_s=0.8)
        r = np.random.default_rng(self.seed)
        self._sheet = (float(r.uniform(1.6, 2.1)), float(r.uniform(2.0, 2.6)))  # IED units
        self._pitch = float(r.uniform(1.7, 2.6))
        self._angle = float(r.uniform(-4, 4))

    def frame(self, t_s: float, action: str | None) -> np.ndarray:
        if self.species is Species.MASK:
            return self._mask(t_s, action)
        held = self._holder.pose(t_s, None if self.video else action)
        if self.video is not None:  # the recording moves; the phone is held still
            content = self.video.pose(t_s, None)
        else:  # a photo neither blinks nor turns inside its sheet
            content = Pose(held.ied_px, held.centre)
        face, _ = render_face(self.portrait, content)
        if self.species is not Species.PRINT:
            face = _screen(face, self._pitch, self._angle, phase=t_s * 1.7)
        else:  # paper: less contrast, a warmer white
            face = face.astype(np.float32) * 0.82 + np.float32([30, 28, 22])
        pose = held
        half_w, half_h = self._sheet[0] * pose.ied_px, self._sheet[1] * pose.ied_px
        cx, cy = pose.centre
        mask = np.zeros(face.shape[:2], np.float32)
        cv2.rectangle(mask, (int(cx - half_w), int(cy - 0.9 * half_h)),
                      (int(cx + half_w), int(cy + 1.1 * half_h)), 1.0, -1)
        out = self._room * (1 - mask[..., None]) + face * mask[..., None]
        if self.species is not Species.PRINT:  # the phone's black bezel
            edge = cv2.dilate(mask, np.ones((15, 15), np.uint8)) - mask
            out = out * (1 - edge[..., None]) + 15 * edge[..., None]
        if pose.yaw_deg:  # the attacker turns the sheet or phone: it only narrows
            out = head_turn(out.astype(np.uint8), pose.centre, pose.ied_px, pose.yaw_deg,
                            flat=True)
        return np.clip(out, 0, 255).astype(np.uint8)

    def _mask(self, t_s: float, action: str | None) -> np.ndarray:
        """The attacker's own head (which turns, comes closer and blinks) behind a flat
        cut-out of the victim's face with holes where the eyes are."""
        pose = self._wearer.pose(t_s, action)
        head, eyes = render_face(self._wearer.portrait, pose)
        flat = Pose(pose.ied_px, pose.centre, 0.0, 0.0)
        victim, _ = render_face(self.portrait, flat)
        cx, cy = pose.centre
        cut = np.zeros(victim.shape[:2], np.float32)
        cv2.ellipse(cut, (int(cx), int(cy + 0.45 * pose.ied_px)),
                    (int(1.05 * pose.ied_px), int(1.45 * pose.ied_px)), 0, 0, 360, 1.0, -1)
        for ex, ey in eyes:  # the holes
            cv2.ellipse(cut, (int(ex), int(ey)), (int(0.2 * pose.ied_px),
                                                  int(0.1 * pose.ied_px)), 0, 0, 360, 0.0, -1)
        cut = cv2.GaussianBlur(cut, (0, 0), 1.0)
        if pose.yaw_deg:
            victim = head_turn(victim, pose.centre, pose.ied_px, pose.yaw_deg, flat=True)
            cut = head_turn(cut, pose.centre, pose.ied_px, pose.yaw_deg, flat=True)
        out = head.astype(np.float32) * (1 - cut[..., None]) + victim * cut[..., None]
        return np.clip(out, 0, 255).astype(np.uint8)


def camera_view(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a webcam makes of the scene: slightly soft, with sensor noise."""
    soft = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 0.7)
    noise = rng.standard_normal(soft.shape, dtype=np.float32) * 2.0
    return np.clip(soft + noise, 0, 255).astype(np.uint8)


class Presenter(Protocol):
    def frame(self, t_s: float, action: str | None) -> np.ndarray: ...


@dataclass(frozen=True)
class Drive:
    frames: int  # frames sent
    prompted_s: float | None  # when the first action was asked (frame time from the start)
    answered_s: float | None  # when the verifier stopped asking (frame time from the start)
    captured_s: float | None  # when a photo was accepted (frame time from the start)
    actions: tuple[str, ...]  # the actions asked, in order


def drive(presenter: Presenter, send: Callable[[np.ndarray, float], tuple[str | None, bool]],
          fps: float = 8.0, max_s: float = 20.0, start_s: float = 1.8e9, seed: int = 0,
          until_capture: bool = True) -> Drive:
    """Show `presenter` to a verifier until it accepts a photo (or, not `until_capture`,
    stops asking for actions) or `max_s` runs out.
    `send(rgb, t_s)` delivers one frame captured at `t_s` and returns the liveness action
    the verifier asks for now (or None) and whether it accepted the frame as the photo."""
    action: str | None = None
    asked: list[str] = []
    prompted = answered = None
    rng = np.random.default_rng(seed)
    for i in range(int(max_s * fps)):
        t = start_s + i / fps
        prompt, accepted = send(camera_view(presenter.frame(t, action), rng), t)
        if prompt is not None and prompt != action:
            asked.append(prompt)
            prompted = prompted if prompted is not None else t - start_s
        if prompt is None and action is not None and answered is None:
            answered = t - start_s
            if not until_capture:
                return Drive(i + 1, prompted, answered, None, tuple(asked))
        action = prompt or action
        if accepted:
            return Drive(i + 1, prompted, answered, t - start_s, tuple(asked))
    return Drive(int(max_s * fps), prompted, answered, None, tuple(asked))
