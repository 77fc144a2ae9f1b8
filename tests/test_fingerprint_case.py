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
from verifier.fingerprint.analysis import load_extractor
from verifier.fingerprint.gallery import FingerprintGallery, finger_label
from verifier.gallery import Enrolment
from verifier.models import LoadedModels
from verifier.synthetic.fingerprints import encode_png, impression

NIK_A = "1707010101900001"
NIK_B = "1707014202910002"


@pytest.fixture
def sessions(tmp_path: Path, models: LoadedModels, config: Config) -> Iterator[CounterSessions]:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    yield CounterSessions(store, models, config)
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


def rules(verdict: Verdict) -> list[str]:
    return sorted(f.rule_id for f in verdict.flags if f.rule_id.startswith("fingerprint."))


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


def test_renewal_and_earlier_records(sessions: CounterSessions) -> None:
    run_case(sessions, NIK_A, {2: (721, 0), 7: (722, 0)})
    # Renewal: same applicant, same fingers, new presses -> 1:1 matches, no flags.
    renewal = run_case(sessions, NIK_A, {2: (721, 3), 7: (722, 3)})
    assert not [r for r in rules(renewal) if r.startswith("fingerprint.")
                and r != "fingerprint.slot_check_failed"]
    own = [m for m in renewal.matches if m.probe in ("finger:2", "finger:7")]
    assert own and all(m.match for m in own)
    # Right index given for the left index slot, and a finger that is not the earlier one.
    swapped = run_case(sessions, NIK_A, {2: (723, 0), 7: (721, 4)})
    assert "fingerprint.matches_other_finger" in rules(swapped)
    assert "fingerprint.renewal_mismatch" in rules(swapped)
    # Another NIK presenting the first applicant's finger.
    other = run_case(sessions, NIK_B, {1: (722, 5)})
    flag = next(f for f in other.flags if f.rule_id == "fingerprint.matches_other_applicant")
    assert flag.evidence["earlier_nik"] == NIK_A and flag.evidence["earlier_finger"] == "7"


def test_declared_exception_that_was_captured_needs_review(sessions: CounterSessions) -> None:
    verdict = run_case(sessions, NIK_A, {2: (731, 0)}, exceptions={2: "BANDAGED"})
    flag = next(f for f in verdict.flags if f.rule_id == "fingerprint.exception_but_captured")
    assert flag.evidence["reason"] == "BANDAGED"


def test_gallery_protocol(config: Config) -> None:
    extractor = load_extractor(config)
    gallery = FingerprintGallery(extractor)

    def template(finger: int, k: int) -> bytes:
        from verifier.fingerprint.analysis import analyse_grey

        analysis = analyse_grey(impression(finger, k), 500, extractor, config.fingerprint)
        return analysis.extraction.minutiae.to_iso_19794_2_2005()

    for case, fingers in (("c1", (741, 742)), ("c2", (743, 744))):
        for position, finger in enumerate(fingers, start=1):
            gallery.enrol(Enrolment(case, NIK_A, finger_label(position)), template(finger, 0))
    assert len(gallery) == 4
    best = gallery.search(template(743, 2), top_k=2)
    assert [c.enrolment.case_id for c in best][0] == "c2" and best[0].score > best[1].score
    gallery.enrol(Enrolment("c2", NIK_A, finger_label(1)), template(745, 0))  # replaces
    assert len(gallery) == 4
    assert gallery.remove_case("c2") == 2 and len(gallery) == 2
    assert all(c.enrolment.case_id == "c1" for c in gallery.search(template(743, 2)))
