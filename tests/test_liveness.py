"""Liveness at the counter (verifier.face.liveness): the challenge, its judgement over frame
measures, the passive cues, and whole counter sessions in which a simulated applicant
answers the prompts or a simulated presentation attack tries to (verifier.synthetic.liveness).
"""

from __future__ import annotations

import collections
import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from tests.harness import NO_ATTESTATION, InProcessVerifier
from tests.liveness_sessions import counter_session
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2
from verifier.cases.store import CaseStore
from verifier.config import Config, LivenessConfig, load_config
from verifier.consistency.verdict import Flag, Severity, Verdict
from verifier.counter_session import CounterSessions
from verifier.face.detection import detect_faces
from verifier.face.liveness.challenge import TURNS, Action, Challenge, choose_challenge
from verifier.face.liveness.judge import Reason, Status, judge
from verifier.face.liveness.measures import FrameMeasures
from verifier.face.liveness.passive import border_around_face, screen_score
from verifier.face.liveness.session import liveness_evidence, liveness_step
from verifier.imaging import encode_jpeg
from verifier.models import LoadedModels
from verifier.synthetic.frames import framed_face
from verifier.synthetic.liveness import Attack, Performer, Portrait, Species, camera_view

S = LivenessConfig(enabled=True)
T0 = 1.8e9


def measures(t: float, seq: int, eyes: float = 0.47, yaw: float = 1.0, ied: float = 80.0,
             x: float = 320.0, screen: float = 2.8, border: bool = False) -> FrameMeasures:
    return FrameMeasures(at_s=T0 + t, sequence=seq, eye_openness=eyes, yaw_deg=yaw, ied_px=ied,
                         eye_mid_px=(x, 225.0), screen_score=screen, border=border)


def answered(actions: tuple[Action, ...], at: tuple[float, ...], fps: float = 8.0,
             until: float = 6.0, **passive: object) -> list[FrameMeasures]:
    """Frames of a person doing `actions[i]` at time `at[i]` (s after the challenge),
    swaying slightly, at `fps`."""
    frames = []
    for i in range(int(until * fps)):
        t = i / fps
        kw: dict[str, float] = {"x": 320.0 + (i % 3)}
        for action, start in zip(actions, at):
            if start <= t < start + 0.3:
                if action is Action.BLINK:
                    kw["eyes"] = 0.28
                elif action in TURNS:
                    kw["yaw"] = 22.0 if action is Action.TURN_LEFT else -22.0
            if action is Action.MOVE_CLOSER and t >= start:
                kw["ied"] = 100.0
        frames.append(measures(t, i + 2, **kw, **passive))  # type: ignore[arg-type]
    return frames


BLINK_THEN_LEFT = Challenge((Action.BLINK, Action.TURN_LEFT), T0)


# The challenge -----------------------------------------------------------------------------

def test_challenge_is_random_has_a_turn_and_distinct_actions() -> None:
    drawn = [choose_challenge(S, T0).actions for _ in range(400)]
    assert all(len(a) == 2 and len(set(a)) == 2 and any(x in TURNS for x in a) for a in drawn)
    # Every turn paired with every other action, in both orders: 2 x 2 x 2 = 8 challenges.
    assert len(collections.Counter(drawn)) == 8


@pytest.mark.parametrize(("settings", "message"), [
    (LivenessConfig(actions=("blink", "wink")), "unknown actions wink"),
    (LivenessConfig(actions=("blink", "move_closer")), "require_turn needs"),
    (LivenessConfig(steps=4), "steps must be 1-3"),
])
def test_a_challenge_that_cannot_be_drawn_is_refused_by_name(settings: LivenessConfig,
                                                             message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose_challenge(settings, T0)


def test_a_verifier_whose_challenge_cannot_be_drawn_does_not_start(
        tmp_path: Path, config: Config, models: LoadedModels) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    try:
        bad = LivenessConfig(enabled=True, actions=("wink", "turn_left"))
        with pytest.raises(ValueError, match="unknown actions wink"):
            CounterSessions(store, models, dataclasses.replace(config, liveness=bad))
        # Its twin: the same list switched off is not checked (the check is not used).
        CounterSessions(store, models, dataclasses.replace(
            config, liveness=dataclasses.replace(bad, enabled=False)))
    finally:
        store.close()


def test_a_single_action_without_a_turn_can_be_configured() -> None:
    settings = LivenessConfig(actions=("blink",), steps=1, require_turn=False)
    assert choose_challenge(settings, T0).actions == (Action.BLINK,)


def test_a_stored_challenge_with_an_unknown_action_is_never_passed() -> None:
    assert Challenge.from_record({"actions": ["blink", "smile"], "asked_at_s": T0}) is None
    assert Challenge.from_record({"actions": ["blink"], "asked_at_s": "soon"}) is None
    assert Challenge.from_record("blink") is None
    frames = answered(BLINK_THEN_LEFT.actions, (1.0, 2.0))
    stored = [(f.sequence, {"liveness": {"at_s": f.at_s, "measures": f.to_record()}})
              for f in frames]
    stored[0][1]["liveness"]["challenge"] = {"actions": ["blink", "smile"], "asked_at_s": T0}
    evidence = liveness_evidence(stored)
    assert evidence is not None and evidence.unreadable
    outcome = evidence.judge(S, final=True)
    assert (outcome.status, outcome.reason) == (Status.NOT_ATTEMPTED, Reason.NO_CHALLENGE)
    # ... and no new challenge is drawn for it (a replay could then try again).
    step = liveness_step(evidence, frames[-1], frames[-1].at_s + 0.1, S)
    assert "challenge" not in step.record and step.prompt is None
    # Its twin: the same frames under a challenge this version knows pass.
    stored[0][1]["liveness"]["challenge"] = BLINK_THEN_LEFT.to_record()
    known = liveness_evidence(stored)
    assert known is not None and known.judge(S, final=True).status is Status.PASSED


def test_measures_survive_the_store_and_garbage_does_not() -> None:
    m = measures(1.0, 5, yaw=-3.25)
    assert FrameMeasures.from_record(m.to_record()) == m
    assert FrameMeasures.from_record({"at_s": "x"}) is None
    assert FrameMeasures.from_record(None) is None


# Judging the measures ----------------------------------------------------------------------

def test_actions_in_order_and_in_time_pass() -> None:
    outcome = judge(BLINK_THEN_LEFT, answered(BLINK_THEN_LEFT.actions, (1.0, 2.5)), T0 + 6, S)
    assert outcome.status is Status.PASSED
    assert [round((s.seen_at_s or 0) - T0, 3) for s in outcome.steps] == [1.0, 2.5]


def test_an_action_after_the_timeout_fails() -> None:
    late = answered(BLINK_THEN_LEFT.actions, (1.0, 1.0 + S.response_timeout_s + 0.5),
                    until=10.0)
    outcome = judge(BLINK_THEN_LEFT, late, T0 + 10, S)
    assert (outcome.status, outcome.reason) == (Status.FAILED, Reason.NOT_SEEN)
    assert outcome.steps[-1].action is Action.TURN_LEFT and outcome.steps[-1].seen_at_s is None


def test_an_action_before_it_was_asked_does_not_count() -> None:
    # The turn comes first (a recording), then the blink: the turn was not asked yet.
    early = answered(BLINK_THEN_LEFT.actions, (2.0, 1.0), until=10.0)
    outcome = judge(BLINK_THEN_LEFT, early, T0 + 10, S)
    assert (outcome.status, outcome.reason) == (Status.FAILED, Reason.NOT_SEEN)
    # Within min_reaction_s of the prompt is before the applicant could have seen it.
    instant = answered((Action.BLINK, Action.TURN_LEFT), (0.1, 2.0), until=10.0)
    assert judge(BLINK_THEN_LEFT, instant, T0 + 10, S).reason is Reason.NOT_SEEN


def test_the_wrong_turn_fails() -> None:
    wrong = answered((Action.BLINK, Action.TURN_RIGHT), (1.0, 2.0))
    outcome = judge(BLINK_THEN_LEFT, wrong, T0 + 6, S)
    assert (outcome.status, outcome.reason) == (Status.FAILED, Reason.WRONG_ACTION)


def test_waiting_is_pending_until_the_session_ends_then_not_attempted() -> None:
    idle = answered((), (), until=3.0)
    assert judge(BLINK_THEN_LEFT, idle, T0 + 3, S).status is Status.PENDING
    outcome = judge(BLINK_THEN_LEFT, idle, T0 + 3, S, final=True)
    assert (outcome.status, outcome.reason) == (Status.NOT_ATTEMPTED, Reason.ENDED)
    assert judge(None, idle, T0 + 3, S, final=True).status is Status.NOT_ATTEMPTED


@pytest.mark.parametrize(("passive", "reason"), [
    ({"screen": 8.0}, Reason.SCREEN), ({"border": True}, Reason.BORDER)])
def test_passive_cues_fail_a_session_whose_actions_were_seen(passive: dict[str, object],
                                                             reason: Reason) -> None:
    frames = answered(BLINK_THEN_LEFT.actions, (1.0, 2.0), **passive)
    outcome = judge(BLINK_THEN_LEFT, frames, T0 + 6, S)
    assert (outcome.status, outcome.reason) == (Status.FAILED, reason)


def test_a_screen_fails_the_session_while_an_action_is_still_asked() -> None:
    # A replay that never shows the asked action is named for its screen, not left pending.
    frames = answered((), (), until=2.0, screen=8.0)
    outcome = judge(BLINK_THEN_LEFT, frames, T0 + 2, S)
    assert (outcome.status, outcome.reason) == (Status.FAILED, Reason.SCREEN)
    # Its twin: the same frames without the screen's pattern are still waiting.
    calm = answered((), (), until=2.0)
    assert judge(BLINK_THEN_LEFT, calm, T0 + 2, S).status is Status.PENDING


def test_a_face_that_never_moves_fails() -> None:
    still = [dataclasses.replace(f, eye_mid_px=(320.0, 225.0))
             for f in answered(BLINK_THEN_LEFT.actions, (1.0, 2.0))]
    assert judge(BLINK_THEN_LEFT, still, T0 + 6, S).reason is Reason.STILL


# Frames: passive cues and the simulated species --------------------------------------------

@pytest.fixture(scope="module")
def astronaut(models: LoadedModels) -> Portrait:
    frame = framed_face()
    face = detect_faces(frame, models, 1, 0.0)[0]
    return Portrait(frame, face.left_eye_px, face.right_eye_px)


def test_screen_and_border_cues_separate_a_face_from_a_phone_and_a_print(
        astronaut: Portrait, models: LoadedModels) -> None:
    def cues(scene: np.ndarray) -> tuple[float, bool]:
        rgb = camera_view(scene, np.random.default_rng(1))
        (face,) = detect_faces(rgb, models, 1, 0.0)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return screen_score(grey, face.box), border_around_face(grey, face.box)

    rng = np.random.default_rng(0)
    live = cues(Performer(astronaut, rng).frame(T0, None))
    phone = cues(Attack(Species.SCREEN, astronaut, rng, seed=4).frame(T0, None))
    paper = cues(Attack(Species.PRINT, astronaut, rng, seed=0).frame(T0, None))
    assert live[0] <= S.max_screen_score and not live[1]
    assert phone[0] > S.max_screen_score and phone[1]
    assert paper[1]


# Whole sessions ----------------------------------------------------------------------------

@pytest.fixture
def sessions(tmp_path: Path, config: Config, models: LoadedModels) -> Iterator[CounterSessions]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    yield CounterSessions(store, models, dataclasses.replace(config, liveness=S))
    store.close()


def session(sessions: CounterSessions, presenter: object, max_s: float = 12.0,
            fps: float = 6.0, until_capture: bool = True) -> tuple[Verdict, object]:
    return counter_session(sessions, presenter, fps=fps, max_s=max_s,  # type: ignore[arg-type]
                           until_capture=until_capture)


def liveness_flags(verdict: Verdict) -> dict[str, Flag]:
    return {f.rule_id: f for f in verdict.flags if "liveness" in f.rule_id}


@pytest.mark.slow
def test_a_live_applicant_answering_the_prompts_passes_and_is_captured(
        sessions: CounterSessions, astronaut: Portrait) -> None:
    verdict, driven = session(sessions, Performer(astronaut, np.random.default_rng(1)))
    assert len(driven.actions) == 2 and driven.captured_s is not None  # type: ignore[attr-defined]
    assert liveness_flags(verdict) == {}


@pytest.mark.slow
def test_an_applicant_who_does_not_answer_goes_to_review_not_pass(
        sessions: CounterSessions, astronaut: Portrait) -> None:
    still = Performer(astronaut, np.random.default_rng(2), respond=False)
    verdict, driven = session(sessions, still, max_s=S.response_timeout_s + 2, fps=4.0)
    (flag,) = liveness_flags(verdict).values()
    assert flag.rule_id == "face.liveness_failed" and flag.severity is Severity.REVIEW
    assert flag.evidence["reason"] == "not_seen"
    assert verdict.decision.value != "pass"
    # The challenge timed out, then the still face was captured: the case is complete.
    assert driven.captured_s is not None  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.parametrize("species", [Species.PRINT, Species.SCREEN, Species.VIDEO, Species.MASK])
def test_each_attack_species_fails_the_check(sessions: CounterSessions, astronaut: Portrait,
                                             species: Species) -> None:
    rng = np.random.default_rng(7)
    video = Performer(astronaut, rng, respond=False,
                      script=(("blink", 0.4), ("turn_left", 1.0), ("move_closer", 3.0)))
    attack = Attack(species, astronaut, rng, seed=11, attacker=astronaut,
                    video=video if species is Species.VIDEO else None)
    # Until the verifier stops asking: by then each attack has failed (every challenge has a
    # turn, which a flat print, screen or mask cannot make).
    verdict, driven = session(sessions, attack, max_s=2 * S.response_timeout_s + 2, fps=4.0,
                              until_capture=False)
    assert driven.actions  # type: ignore[attr-defined]
    flags = liveness_flags(verdict)
    assert set(flags) == {"face.liveness_failed"}
    assert flags["face.liveness_failed"].severity is Severity.REVIEW


def test_with_liveness_off_no_challenge_is_asked_and_no_flag_raised(
        tmp_path: Path, config: Config, models: LoadedModels, astronaut: Portrait) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'off.sqlite3'}")
    try:
        off = CounterSessions(store, models, config)  # the default: off
        verdict, driven = session(off, Performer(astronaut, np.random.default_rng(3)), 2.0)
        assert driven.actions == () and driven.captured_s is not None  # type: ignore[attr-defined]
        assert liveness_flags(verdict) == {}
    finally:
        store.close()


def _grpc_frames(address: str, frames: int) -> list[capture_pb2.VerifierMessage]:
    sid = str(uuid.uuid4())
    live = encode_jpeg(framed_face(), 90)
    msgs = [capture_pb2.StationMessage(
        client_session_id=sid, sequence=1, start=capture_pb2.SessionStart(
            station_id="loket-1", officer_id="petugas-7",
            application=types_pb2.ApplicationData(full_name="EILEEN")))]
    msgs += [capture_pb2.StationMessage(
        client_session_id=sid, sequence=i + 2,
        frame=capture_pb2.CameraFrame(jpeg=live, captured_at_unix_ms=int((T0 + i / 6) * 1000)))
        for i in range(frames)]
    with grpc.insecure_channel(address) as channel:
        return list(capture_pb2_grpc.CaptureServiceStub(channel).Session(iter(msgs), timeout=120))


@pytest.mark.slow
def test_the_station_is_told_the_action_and_no_photo_is_taken_meanwhile(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'grpc.sqlite3'}"
    verifier = InProcessVerifier(url, load_config(store={"url": url}, liveness={"enabled": True},
                                                  **NO_ATTESTATION))
    try:
        replies = _grpc_frames(verifier.address, 4)
    finally:
        verifier.stop()
    guidance = [r.guidance for r in replies if r.WhichOneof("payload") == "guidance"]
    assert len(guidance) == 4 and all(g.ready for g in guidance)
    prompts = [g.liveness for g in guidance]
    assert all(p.action != capture_pb2.LIVENESS_ACTION_UNSPECIFIED and p.steps == 2
               and p.step == 1 and p.message_id and p.message_en for p in prompts)
    assert len({p.action for p in prompts}) == 1  # the same challenge on every frame
    name = capture_pb2.LivenessAction.Name(prompts[0].action).removeprefix("LIVENESS_ACTION_")
    assert all(g.hints[0].code == f"liveness_{name.lower()}" for g in guidance)
    assert prompts[0].seconds_left > prompts[-1].seconds_left
    # Ready and steady, yet no photo while the action is asked.
    assert not [r for r in replies if r.WhichOneof("payload") == "capture_accepted"]


@pytest.mark.slow
def test_with_liveness_off_the_station_gets_no_prompt_and_the_photo(
        verifier: InProcessVerifier) -> None:
    replies = _grpc_frames(verifier.address, 4)
    guidance = [r.guidance for r in replies if r.WhichOneof("payload") == "guidance"]
    assert guidance and not any(g.HasField("liveness") for g in guidance)
    assert [r for r in replies if r.WhichOneof("payload") == "capture_accepted"]
