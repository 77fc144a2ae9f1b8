"""The liveness decision over a session's frames: was each asked action seen, in order and
in time, and do the frames look like a live face? Pure: measures in, outcome out."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from verifier.config import LivenessConfig
from verifier.face.liveness.challenge import TURNS, Action, Challenge
from verifier.face.liveness.measures import FrameMeasures


# Face frames (about a second at the station's rate) before the passive cues may fail a
# session whose actions are still being asked.
_MIN_PASSIVE_FRAMES = 6


class Status(Enum):
    PENDING = "pending"  # an action is asked and its time has not run out
    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # the session ended before the challenge was answered


class Reason(Enum):
    NONE = ""
    NOT_SEEN = "not_seen"  # an action did not come within response_timeout_s
    WRONG_ACTION = "wrong_action"  # the other turn than the one asked
    SCREEN = "screen"  # moiré or refresh banding
    BORDER = "border"  # a print's or phone's edges around the face
    STILL = "still"  # the face never moved
    NO_CHALLENGE = "no_challenge"  # no face frame (or a challenge this version cannot read)
    ENDED = "ended"  # Finish (or the last frame) before an action's time ran out


@dataclass(frozen=True)
class StepResult:
    action: Action
    asked_at_s: float
    seen_at_s: float | None

    def to_record(self) -> dict[str, Any]:
        return {"action": self.action.value, "asked_at_s": round(self.asked_at_s, 3),
                "seen_at_s": None if self.seen_at_s is None else round(self.seen_at_s, 3)}


@dataclass(frozen=True)
class LivenessOutcome:
    status: Status
    reason: Reason
    steps: tuple[StepResult, ...]  # the actions asked so far
    frames: int  # face frames judged
    screen_share: float  # share of them with a screen score over the threshold
    border_share: float
    motion_ied: float  # spread of the face's position and size, in inter-eye distances

    @property
    def concluded(self) -> bool:
        return self.status in (Status.PASSED, Status.FAILED)

    @property
    def current(self) -> StepResult | None:
        """The action being asked while pending."""
        return self.steps[-1] if self.status is Status.PENDING and self.steps else None

    def to_record(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason.value,
                "steps": [s.to_record() for s in self.steps], "frames": self.frames,
                "screen_share": round(self.screen_share, 3),
                "border_share": round(self.border_share, 3),
                "motion_ied": round(self.motion_ied, 4)}


def _seen(action: Action, f: FrameMeasures, base: FrameMeasures, s: LivenessConfig) -> bool:
    if action is Action.BLINK:
        return (f.eye_openness is not None and base.eye_openness is not None
                and f.eye_openness <= s.blink_max_openness
                and f.eye_openness <= s.blink_max_ratio * base.eye_openness)
    if action is Action.MOVE_CLOSER:
        return f.ied_px >= (1.0 + s.closer_min_growth) * base.ied_px
    if f.yaw_deg is None or base.yaw_deg is None:
        return False
    side = 1.0 if action is Action.TURN_LEFT else -1.0  # the applicant's left: yaw > 0
    return (side * f.yaw_deg >= s.turn_min_yaw_deg
            and side * (f.yaw_deg - base.yaw_deg) >= s.turn_min_yaw_deg)


def _wrong(action: Action, f: FrameMeasures, base: FrameMeasures, s: LivenessConfig) -> bool:
    """Only the opposite turn is a wrong answer: people blink and sway on their own."""
    if action not in TURNS:
        return False
    other = Action.TURN_RIGHT if action is Action.TURN_LEFT else Action.TURN_LEFT
    return _seen(other, f, base, s)


def _motion(frames: Sequence[FrameMeasures]) -> float:
    if len(frames) < 2:
        return 0.0
    ied = statistics.fmean(f.ied_px for f in frames)
    xs = [f.eye_mid_px[0] for f in frames]
    ys = [f.eye_mid_px[1] for f in frames]
    sizes = [f.ied_px for f in frames]
    return max(statistics.pstdev(xs), statistics.pstdev(ys), statistics.pstdev(sizes)) / ied


def judge(challenge: Challenge | None, frames: Sequence[FrameMeasures], now_s: float,
          settings: LivenessConfig, final: bool = False) -> LivenessOutcome:
    """The outcome at `now_s` (the newest frame's time); `final`: the session has ended, so
    a pending action is not attempted. `frames`: the face frames, in any order."""
    frames = sorted(frames, key=lambda f: (f.at_s, f.sequence))
    if challenge is None:
        return LivenessOutcome(Status.NOT_ATTEMPTED if final else Status.PENDING,
                               Reason.NO_CHALLENGE, (), len(frames), 0.0, 0.0, 0.0)
    steps: list[StepResult] = []
    asked = challenge.asked_at_s
    failed: Reason | None = None
    for action in challenge.actions:
        earlier = [f for f in frames if f.at_s <= asked]
        base = earlier[-1] if earlier else None
        seen_at = None
        # An action under way before the applicant could have seen the prompt (within
        # min_reaction_s) counts only once it has ended and begins again.
        armed = True
        for f in frames:
            if base is None:
                base = f
                continue
            if f.at_s <= asked:
                continue
            if f.at_s > asked + settings.response_timeout_s:
                break
            hit = _seen(action, f, base, settings)
            early = f.at_s < asked + settings.min_reaction_s
            if early or not armed:
                armed = (armed and not hit) if early else not hit
                continue
            if _wrong(action, f, base, settings):
                failed = Reason.WRONG_ACTION
                break
            if hit:
                seen_at = f.at_s
                break
        steps.append(StepResult(action, asked, seen_at))
        if failed is not None:
            break
        if seen_at is None:
            if now_s > asked + settings.response_timeout_s:
                failed = Reason.NOT_SEEN
            break
        asked = seen_at
    window = [f for f in frames if f.at_s >= challenge.asked_at_s]
    n = max(1, len(window))
    screen = sum(f.screen_score > settings.max_screen_score for f in window) / n
    border = sum(f.border for f in window) / n
    motion = _motion(window)

    def outcome(status: Status, reason: Reason) -> LivenessOutcome:
        return LivenessOutcome(status, reason, tuple(steps), len(window), screen, border,
                               motion)

    # The passive cues decide as soon as there are frames enough to judge a share on, even
    # while an action is still asked: a replay that happens to show the asked action, or
    # runs out the time, is named for what gave it away.
    if failed is not Reason.WRONG_ACTION and (len(window) >= _MIN_PASSIVE_FRAMES or (
            failed is None and steps[-1].seen_at_s is not None)):
        if screen > settings.max_screen_share:
            return outcome(Status.FAILED, Reason.SCREEN)
        if border > settings.max_border_share:
            return outcome(Status.FAILED, Reason.BORDER)
    if failed is not None:
        return outcome(Status.FAILED, failed)
    if len(steps) < len(challenge.actions) or steps[-1].seen_at_s is None:
        return outcome(Status.NOT_ATTEMPTED if final else Status.PENDING,
                       Reason.ENDED if final else Reason.NONE)
    if motion < settings.min_motion_ied:
        return outcome(Status.FAILED, Reason.STILL)
    return outcome(Status.PASSED, Reason.NONE)
