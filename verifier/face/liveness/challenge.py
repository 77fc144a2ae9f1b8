"""The actions an applicant can be asked for, what they are told, and the random choice
of a session's challenge."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum

from verifier.config import LivenessConfig


class Action(Enum):
    # Directions are the applicant's own: turning to one's left shows the camera the
    # right cheek and moves the face towards the image's right (yaw > 0).
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    MOVE_CLOSER = "move_closer"

    @classmethod
    def named(cls, name: str) -> Action | None:
        """The action of a stored or configured name; None for one this version lacks."""
        try:
            return cls(name)
        except ValueError:
            return None


TURNS = (Action.TURN_LEFT, Action.TURN_RIGHT)

# What the applicant is told (Indonesian, English).
INSTRUCTIONS: dict[Action, tuple[str, str]] = {
    Action.BLINK: ("Kedipkan mata Anda sekali", "Blink your eyes once"),
    Action.TURN_LEFT: ("Tolehkan kepala ke kiri Anda, lalu kembali menghadap kamera",
                       "Turn your head to your left, then face the camera again"),
    Action.TURN_RIGHT: ("Tolehkan kepala ke kanan Anda, lalu kembali menghadap kamera",
                        "Turn your head to your right, then face the camera again"),
    Action.MOVE_CLOSER: ("Majukan wajah Anda sedikit mendekati kamera",
                         "Move your face a little closer to the camera"),
}


@dataclass(frozen=True)
class Challenge:
    actions: tuple[Action, ...]
    asked_at_s: float  # when the first action was asked (frame time, s since the epoch)

    def to_record(self) -> dict[str, object]:
        return {"actions": [a.value for a in self.actions], "asked_at_s": self.asked_at_s}

    @classmethod
    def from_record(cls, record: object) -> Challenge | None:
        """None when the record is not a challenge this version can check (an action it
        does not know): the session then counts as not attempted, never as passed."""
        if not isinstance(record, dict):
            return None
        names, asked = record.get("actions"), record.get("asked_at_s")
        if not isinstance(names, list) or not names or not isinstance(asked, int | float):
            return None
        actions = tuple(Action.named(str(n)) for n in names)
        if any(a is None for a in actions):
            return None
        return cls(actions=actions, asked_at_s=float(asked))  # type: ignore[arg-type]


def configured_actions(settings: LivenessConfig) -> tuple[Action, ...]:
    """The configured pool, refusing names this version does not know and a pool that
    cannot make the configured challenge."""
    unknown = [n for n in settings.actions if Action.named(n) is None]
    if unknown:
        raise ValueError(f"[liveness] actions names unknown actions {', '.join(unknown)}; "
                         f"use {', '.join(a.value for a in Action)}")
    pool = tuple(dict.fromkeys(Action(n) for n in settings.actions))
    if settings.require_turn and not any(a in TURNS for a in pool):
        raise ValueError("[liveness] require_turn needs turn_left or turn_right in actions")
    # With require_turn one turn and the other actions (a second turn is not drawn).
    most = 1 + sum(a not in TURNS for a in pool) if settings.require_turn else len(pool)
    if not 1 <= settings.steps <= most:
        raise ValueError(f"[liveness] steps must be 1-{most} for the configured actions, "
                         f"got {settings.steps}")
    return pool


def choose_challenge(settings: LivenessConfig, asked_at_s: float) -> Challenge:
    """`steps` different actions in random order, one of them a turn when `require_turn`;
    drawn with `secrets` so that a replay cannot be prepared for the session."""
    pool = list(configured_actions(settings))
    chosen: list[Action] = []
    if settings.require_turn:
        chosen.append(secrets.choice([a for a in pool if a in TURNS]))
        # A second turn adds nothing a flat print could not fail already.
        pool = [a for a in pool if a not in TURNS]
    while len(chosen) < settings.steps and pool:
        pick = secrets.choice(pool)
        chosen.append(pick)
        pool.remove(pick)
    order = list(chosen)
    for i in range(len(order) - 1, 0, -1):  # Fisher-Yates with the secrets generator
        j = secrets.randbelow(i + 1)
        order[i], order[j] = order[j], order[i]
    return Challenge(actions=tuple(order), asked_at_s=asked_at_s)
