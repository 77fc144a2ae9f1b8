"""Fingerprint case rules through the real counter session, case store and NBIS: the same
finger in two slots, a renewal against the applicant's earlier record, a print matching
another applicant, an exception that was captured anyway; and the 1:N gallery."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.consistency.verdict import Verdict
from verifier.counter_session import CounterSessions
from verifier.galleries.open import open_galleries
from verifier.models import LoadedModels
from verifier.synthetic.fingerprints import encode_png, impression

NIK_A = "1707010101900001"
NIK_B = "1707014202910002"


@pytest.fixture
def sessions(tmp_path: Path, models: LoadedModels, config: Config) -> Iterator[CounterSessions]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    yield CounterSessions(store, models, config,
                          open_galleries(store, models, config))
    store.close()


def run_case(sessions: CounterSessions, nik: str, fingers: dict[int, tuple[int, int]],
             exceptions: dict[int, str] | None = None) -> Verdict:
    """fingers: position -> (generated finger id, impression)."""
    sid = str(uuid.uuid4())
    sessions.start(sid, 1, "loket-1", "p-1", {"nik": nik})
    seq = 1
    for position, reason in (exceptions or {}).items():
        seq += 1
        sessions.fingerprint_exception(sid, seq, position, reason, "catatan petugas")
    for position, (finger, k) in fingers.items():
        seq += 1
        outcome = sessions.fingerprint(sid, seq, position, 500, encode_png(impression(finger, k)))
        assert outcome.item is not None and outcome.item.record["template_iso19794_2_b64"]
    verdict = sessions.finish(sid, seq + 1).verdict
    assert verdict is not None
    return verdict


# What the completeness rules say of a case with fewer than ten fingers; not these tests' topic.
COMPLETENESS = {"fingerprint.finger_missing", "fingerprint.below_quality_gate"}


def rules(verdict: Verdict) -> list[str]:
    return sorted(f.rule_id for f in verdict.flags if f.rule_id.startswith("fingerprint.")
                  and f.rule_id not in COMPLETENESS)


def test_distinct_fingers_raise_no_slot_flags(sessions: CounterSessions) -> None:
    verdict = run_case(sessions, NIK_A, {2: (701, 0), 3: (702, 0), 7: (703, 0)})
    assert "fingerprint.same_finger_two_slots" not in rules(verdict)
    assert not [m for m in verdict.matches if m.modality == "fingerprint"]


def test_same_finger_in_two_slots_is_a_fail_with_the_score(sessions: CounterSessions) -> None:
    verdict = run_case(sessions, NIK_A, {2: (711, 0), 3: (711, 2), 7: (712, 0)})
    flags = [f for f in verdict.flags if f.rule_id == "fingerprint.same_finger_two_slots"]
    assert len(flags) == 1 and flags[0].evidence["positions"] == "2,3"
    assert int(flags[0].evidence["score"]) >= int(flags[0].evidence["threshold"])
    assert verdict.decision.value == "FAIL"


def test_the_officer_hears_of_a_finger_given_twice_when_it_arrives(
        sessions: CounterSessions) -> None:
    sid = str(uuid.uuid4())
    sessions.start(sid, 1, "loket-1", "p-1", {"nik": NIK_A})

    def send(seq: int, position: int, finger: int, k: int) -> dict[str, str]:
        item = sessions.fingerprint(sid, seq, position, 500,
                                    encode_png(impression(finger, k))).item
        assert item is not None
        return {c.requirement: c.outcome.value for c in item.checks}

    assert send(2, 2, 741, 0)["same_finger"] == "pass"  # nothing earlier to compare with
    assert send(3, 3, 742, 0)["same_finger"] == "pass"  # twin: another finger
    warned = sessions.fingerprint(sid, 4, 7, 500, encode_png(impression(741, 2))).item
    assert warned is not None
    check = next(c for c in warned.checks if c.requirement == "same_finger")
    assert check.outcome.value == "fail" and "right index finger" in check.message_en
    assert check.value >= check.threshold
    # A retake of a slot is not compared with that slot's earlier capture.
    assert send(5, 3, 742, 3)["same_finger"] == "pass"
    # The officer recaptures slot 7 with the right finger: that retake counts, not the
    # capture that drew the warning (whatever their NFIQ 2), so no flag at Finish.
    assert send(6, 7, 745, 0)["same_finger"] == "pass"
    verdict = sessions.finish(sid, 7).verdict
    assert verdict is not None and "fingerprint.same_finger_two_slots" not in rules(verdict)


def test_finish_compares_the_pairs_that_arrival_did_not_see(sessions: CounterSessions,
                                                           models: LoadedModels,
                                                           config: Config) -> None:
    """Two captures analysed at the same moment do not see each other's scores: Finish
    compares them itself."""
    from dataclasses import replace

    from verifier.consistency.case_evidence import case_evidence
    from verifier.consistency.context import CaseContext
    from verifier.consistency.fingerprint_rules import analyse
    from verifier.face.matching import face_matcher

    verdict = run_case(sessions, NIK_A, {2: (751, 0), 3: (751, 2)})
    assert "fingerprint.same_finger_two_slots" in rules(verdict)  # stored at arrival
    evidence = case_evidence(sessions.store.contents(verdict.case_id))
    blind = replace(evidence, fingerprints=tuple(replace(f, pair_scores=())
                                                 for f in evidence.fingerprints))
    findings = analyse(CaseContext(blind, None, models, face_matcher(models, config.face), config))
    assert [f.rule_id for f in findings.flags] == ["fingerprint.same_finger_two_slots"]


def test_renewal_and_earlier_records(sessions: CounterSessions) -> None:
    earliest = run_case(sessions, NIK_A, {2: (721, 0), 7: (722, 0)})
    # Renewal: same applicant, same fingers, new presses -> 1:1 matches, no flags.
    renewal = run_case(sessions, NIK_A, {2: (721, 3), 7: (722, 3)})
    assert not rules(renewal)
    own = [m for m in renewal.matches if m.probe in ("finger:2", "finger:7")]
    assert own and all(m.match for m in own)
    # A finger that is not the earlier one in the same slot.
    changed = run_case(sessions, NIK_A, {2: (723, 0), 7: (722, 4)})
    flag = next(f for f in changed.flags if f.rule_id == "fingerprint.renewal_mismatch")
    assert flag.evidence["position"] == "2"
    # Another NIK presenting the first applicant's left index in the same slot.
    other = run_case(sessions, NIK_B, {7: (722, 5)})
    flag = next(f for f in other.flags if f.rule_id == "fingerprint.matches_other_applicant")
    assert flag.evidence["position"] == "7"
    # Every earlier case of NIK_A holds that finger at position 7.
    assert flag.evidence["other_case"] in {earliest.case_id, renewal.case_id, changed.case_id}
    assert NIK_A not in str(flag.to_dict())  # the gallery holds keyed NIK hashes only
    # Only the same finger position is compared: the same finger in another slot is not
    # a 1:N hit (it costs ten times the comparisons; the same-slot rule covers a swap).
    moved = run_case(sessions, "1707015303930004", {1: (722, 6)})
    assert "fingerprint.matches_other_applicant" not in rules(moved)


def test_declared_exception_that_was_captured_needs_review(sessions: CounterSessions) -> None:
    verdict = run_case(sessions, NIK_A, {2: (731, 0)}, exceptions={2: "BANDAGED"})
    flag = next(f for f in verdict.flags if f.rule_id == "fingerprint.exception_but_captured")
    assert flag.evidence["reason"] == "BANDAGED"


def test_a_case_the_gallery_cannot_enrol_still_gets_its_verdict_with_a_flag(
        sessions: CounterSessions) -> None:
    """The fingerprint gallery refuses inserts (a full disk, a lost permission: here a
    trigger in the real database): the verdict is delivered all the same, with a REVIEW flag
    saying the case is not searchable; the next case, once the fault is gone, is enrolled."""
    from sqlalchemy import text

    with sessions.store.engine.begin() as db:
        db.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON fingerprint_gallery "
                        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
    verdict = run_case(sessions, NIK_A, {2: (761, 0), 7: (762, 0)})
    flag = next(f for f in verdict.flags if f.rule_id == "system.enrolment_failed")
    assert flag.severity.name == "REVIEW" and flag.evidence["reason"] == "STORE_UNAVAILABLE"
    assert sessions.store.verdict(verdict.case_id) is not None
    with sessions.store.engine.begin() as db:
        db.execute(text("DROP TRIGGER refuse"))
    healthy = run_case(sessions, NIK_B, {2: (763, 0), 7: (764, 0)})
    assert "system.enrolment_failed" not in rules(healthy) + [f.rule_id for f in healthy.flags]
    again = run_case(sessions, "1707015303930004", {2: (763, 2)})
    assert "fingerprint.matches_other_applicant" in rules(again)

