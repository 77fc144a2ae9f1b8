"""A session's liveness state, kept in the stored frame results rather than in memory: each
analysed frame's result holds its measures (and the first face frame's the challenge), so
a verifier replica that takes over a reconnected station rebuilds the same state.

Frame result key "liveness": {"at_s", "measures" (or None: no single face), "challenge"
(first face frame only), "outcome" (the state after this frame, for the review page)}.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verifier.config import LivenessConfig
from verifier.face.liveness.challenge import INSTRUCTIONS, Action, Challenge, choose_challenge
from verifier.face.liveness.judge import LivenessOutcome, Reason, Status, judge
from verifier.face.liveness.measures import FrameMeasures

RESULT_KEY = "liveness"


@dataclass(frozen=True)
class LivenessEvidence:
    """What the stored frames hold: enough to judge the session again at Finish."""

    challenge: Challenge | None
    frames: tuple[FrameMeasures, ...]
    last_at_s: float | None  # newest analysed frame, face or not
    unreadable: bool = False  # a challenge was stored that this version cannot check

    def judge(self, settings: LivenessConfig, final: bool) -> LivenessOutcome:
        if self.unreadable:
            return LivenessOutcome(Status.NOT_ATTEMPTED, Reason.NO_CHALLENGE, (),
                                   len(self.frames), 0.0, 0.0, 0.0)
        now = self.last_at_s if self.last_at_s is not None else 0.0
        return judge(self.challenge, self.frames, now, settings, final)


def liveness_evidence(results: Iterable[tuple[int, dict[str, Any] | None]]
                      ) -> LivenessEvidence | None:
    """From (sequence, stored frame result) pairs; None when no frame holds liveness
    records (the check was off, or no frame was analysed)."""
    found = False
    frames: list[FrameMeasures] = []
    challenges: list[tuple[int, object]] = []
    last: float | None = None
    for sequence, result in results:
        record = (result or {}).get(RESULT_KEY)
        if not isinstance(record, dict):
            continue
        found = True
        at = record.get("at_s")
        if isinstance(at, int | float):
            last = max(last, float(at)) if last is not None else float(at)
        measures = FrameMeasures.from_record(record.get("measures"))
        if measures is not None:
            frames.append(measures)
        if "challenge" in record:
            challenges.append((sequence, record["challenge"]))
    if not found:
        return None
    # Two frames analysed at once may both have drawn one: the earliest frame's counts.
    first = min(challenges, key=lambda c: c[0])[1] if challenges else None
    challenge = Challenge.from_record(first) if first is not None else None
    return LivenessEvidence(challenge=challenge, frames=tuple(frames), last_at_s=last,
                            unreadable=first is not None and challenge is None)


@dataclass(frozen=True)
class Prompt:
    """What the applicant is asked now."""

    action: Action
    step: int  # 1-based
    steps: int
    seconds_left: float

    @property
    def message_id(self) -> str:
        return INSTRUCTIONS[self.action][0]

    @property
    def message_en(self) -> str:
        return INSTRUCTIONS[self.action][1]


@dataclass(frozen=True)
class LivenessStep:
    record: dict[str, Any]  # stored in this frame's result under RESULT_KEY
    outcome: LivenessOutcome
    prompt: Prompt | None  # None once the challenge is over (or before a face is seen)


def liveness_step(stored: LivenessEvidence | None, measures: FrameMeasures | None,
                  at_s: float, settings: LivenessConfig) -> LivenessStep:
    """This frame's place in the session: the challenge is drawn on the first face frame
    (asked from that frame's time on) and judged over every face frame so far."""
    stored = stored or LivenessEvidence(challenge=None, frames=(), last_at_s=None)
    record: dict[str, Any] = {"at_s": round(at_s, 3),
                              "measures": measures.to_record() if measures else None}
    challenge = stored.challenge
    if challenge is None and not stored.unreadable and measures is not None:
        challenge = choose_challenge(settings, at_s)
        record["challenge"] = challenge.to_record()
    frames = stored.frames + ((measures,) if measures is not None else ())
    last = max(at_s, stored.last_at_s) if stored.last_at_s is not None else at_s
    outcome = LivenessEvidence(challenge, frames, last, stored.unreadable).judge(
        settings, final=False)
    record["outcome"] = outcome.to_record()
    prompt = None
    current = outcome.current
    if current is not None and challenge is not None:
        prompt = Prompt(action=current.action, step=len(outcome.steps),
                        steps=len(challenge.actions),
                        seconds_left=max(0.0, current.asked_at_s + settings.response_timeout_s
                                         - last))
    return LivenessStep(record=record, outcome=outcome, prompt=prompt)
