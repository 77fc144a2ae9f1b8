"""The verdict in real operation, through the real gRPC server, store, OCR, dlib and NBIS:
a complete case passes and each missing or spoiled item stops it; no verdict over a gap; a
resend with another content is refused; a store error ends the stream without a gap; the
counter never sees another applicant's data."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tests.complete_case import (NIK, Session, blank_png, complete_session, finger_png,
                                 frame_jpeg)
from tests.harness import InProcessVerifier
from tests.images import encode
from tests.test_server import error_reason, of, run_stream
from lebong_contract.api.v1 import capture_pb2, types_pb2


def verdict_of(replies: list[capture_pb2.VerifierMessage]) -> capture_pb2.Verdict:
    (verdict,) = of(replies, "verdict")
    return verdict


def rules(verdict: capture_pb2.Verdict) -> set[str]:
    return {f.rule_id for f in verdict.flags}


def steady(verifier: InProcessVerifier) -> int:
    return verifier.config.photo.capture.steady_frames


@pytest.mark.slow
def test_a_complete_session_passes_and_each_missing_item_stops_it(
        verifier: InProcessVerifier) -> None:
    n = steady(verifier)
    _, msgs = complete_session(n)
    replies = run_stream(verifier.address, msgs)
    verdict = verdict_of(replies)
    assert verdict.decision == types_pb2.DECISION_PASS, verdict
    assert of(replies, "progress"), "the station hears progress while the verdict is computed"
    face = [m for m in verdict.matches if m.modality == "face"]
    assert [m.reference for m in face] == ["ktp_photo"] and face[0].match

    # Twins that must not pass, each one item away from the complete case.
    random_ktp = encode((np.random.default_rng(5).random((540, 856, 3)) * 255).astype(np.uint8))
    twins = {
        "blank KTP": (dict(ktp=blank_png()), types_pb2.DECISION_FAIL,
                      "documents.ktp_unreadable"),
        "random KTP": (dict(ktp=random_ktp), types_pb2.DECISION_FAIL,
                       "documents.ktp_unreadable"),
        "no fingerprints": (dict(fingers={}), types_pb2.DECISION_FAIL,
                            "fingerprint.none_captured"),
        "ten exceptions": (dict(exceptions=tuple(range(1, 11))), types_pb2.DECISION_FAIL,
                           "fingerprint.all_exceptions"),
        "three exceptions": (dict(exceptions=(3, 4, 5)), types_pb2.DECISION_REVIEW,
                             "fingerprint.many_exceptions"),
        "a finger missing": (dict(fingers={p: finger_png(900 + p) for p in range(1, 10)}),
                             types_pb2.DECISION_REVIEW, "fingerprint.finger_missing"),
        "a noise finger": (dict(fingers={p: finger_png(900 + p) if p != 4 else blank_png(
            300, 400, 255) for p in range(1, 11)}), types_pb2.DECISION_REVIEW,
            "fingerprint.below_quality_gate"),
    }
    for name, (kw, decision, rule) in twins.items():
        _, msgs = complete_session(n, finger_base=1000 + 20 * len(name), **kw)
        twin = verdict_of(run_stream(verifier.address, msgs))
        assert twin.decision == decision and rule in rules(twin), (name, twin)


def test_no_live_capture_and_no_ktp_fail(verifier: InProcessVerifier) -> None:
    s = Session()
    verdict = verdict_of(run_stream(verifier.address, [s.start(), s.finish()]))
    assert verdict.decision == types_pb2.DECISION_FAIL
    assert {"photo.no_live_capture", "documents.ktp_missing",
            "fingerprint.none_captured"} <= rules(verdict)


def test_finish_over_a_gap_is_refused_until_the_missing_message_arrives(
        verifier: InProcessVerifier) -> None:
    s = Session()
    start, frame, finish = s.start(), s.frame(encode(np.full((480, 640, 3), 235, np.uint8))), \
        s.finish()
    replies = run_stream(verifier.address, [start, finish])
    assert not of(replies, "verdict")
    (error,) = of(replies, "error")
    assert error.sequence == finish.sequence
    assert error.status.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert error_reason(error.status) == "SEQUENCE_GAP" and "2" in error.status.message
    case = verifier.store.find_case(s.sid)
    assert case is not None and not case.finished
    # The station resends what is unacknowledged, in order: now the verdict comes.
    replies = run_stream(verifier.address, [frame, finish])
    assert verdict_of(replies).decision == types_pb2.DECISION_FAIL
    assert verifier.store.session_sequences(s.sid) == [1, 2, 3]


def test_a_resend_with_another_content_is_refused(verifier: InProcessVerifier) -> None:
    s = Session()
    start, frame = s.start(), s.frame(encode(np.full((480, 640, 3), 235, np.uint8)))
    run_stream(verifier.address, [start, frame])
    forged = capture_pb2.StationMessage(
        client_session_id=s.sid, sequence=frame.sequence, frame=capture_pb2.CameraFrame(
            jpeg=encode(np.full((480, 640, 3), 20, np.uint8)), captured_at_unix_ms=1))
    replies = run_stream(verifier.address, [forged])
    assert not of(replies, "ack")
    (error,) = of(replies, "error")
    assert error_reason(error.status) == "RESEND_CONFLICT"
    # The honest resend is still a duplicate.
    (ack,) = of(run_stream(verifier.address, [frame]), "ack")
    assert ack.duplicate


def test_a_store_error_ends_the_stream_and_nothing_after_it_is_committed(
        verifier: InProcessVerifier) -> None:
    s = Session()
    start = s.start()
    frames = [s.frame(encode(np.full((480, 640, 3), 235, np.uint8))) for _ in range(3)]
    finish = s.finish()
    failing = {"armed": True}

    @event.listens_for(verifier.store.engine, "before_cursor_execute")
    def fail_once(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if failing["armed"] and statement.lstrip().upper().startswith("INSERT INTO MESSAGES") \
                and parameters and frames[1].sequence in (parameters if isinstance(
                    parameters, tuple) else tuple(parameters.values())):
            failing["armed"] = False
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    with pytest.raises(grpc.RpcError) as info:
        run_stream(verifier.address, [start, *frames, finish])
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert verifier.store.session_sequences(s.sid) == [1, 2]  # nothing after the failure
    # The station's resend of everything unacknowledged completes the case without a gap.
    verdict = verdict_of(run_stream(verifier.address, [*frames[1:], finish]))
    assert verdict.decision == types_pb2.DECISION_FAIL
    assert verifier.store.session_sequences(s.sid) == [1, 2, 3, 4, 5]


def test_per_session_limits_refuse_more_items(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from verifier.config import load_config

    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    v = InProcessVerifier(url, load_config(store={"url": url}, session={"max_documents": 1}))
    try:
        s = Session()
        replies = run_stream(v.address, [s.start(), s.document(blank_png()),
                                         s.document(blank_png())])
        # The one over the cap is committed as rejected (no payload), so no gap holds back
        # the verdict, and the rejection reaches it.
        assert [a.sequence for a in of(replies, "ack")] == [1, 2, 3]
        (error,) = [e for e in of(replies, "error") if e.sequence == 3]
        assert error.status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        assert "1 document" in error.status.message
        case = v.store.find_case(s.sid)
        assert case is not None and v.store.payload(case.case_id, 3) is None
        verdict = verdict_of(run_stream(v.address, [s.finish()]))
        assert any(f.rule_id == "input.item_rejected" and f.evidence["sequence"] == "3"
                   for f in verdict.flags)
    finally:
        v.stop()


@pytest.mark.slow
def test_a_duplicate_identity_reaches_the_counter_without_the_other_applicant(
        verifier: InProcessVerifier) -> None:
    """The same face and fingers come back with a KTP of another NIK: the counter learns that
    a review is needed, never the earlier applicant's NIK or case."""
    n = steady(verifier)
    _, first = complete_session(n, finger_base=1300)
    earlier = verdict_of(run_stream(verifier.address, first))
    other_nik = "1707015208920003"
    _, again = complete_session(n, finger_base=1300, nik=other_nik)
    replies = run_stream(verifier.address, again)
    verdict = verdict_of(replies)
    assert verdict.decision == types_pb2.DECISION_FAIL
    assert {"face.duplicate_identity", "fingerprint.matches_other_applicant"} <= rules(verdict)
    sent = b"".join(r.SerializeToString() for r in replies)
    assert NIK.encode() not in sent and earlier.case_id.encode() not in sent
    # The review page's record keeps who it was.
    stored = verifier.store.verdict(verdict.case_id)
    assert stored is not None
    assert any(f.evidence.get("other_case") == earlier.case_id for f in stored.flags)


@pytest.mark.slow
def test_finish_with_a_thousand_earlier_cases_reads_no_earlier_case(
        tmp_path, models, config) -> None:  # type: ignore[no-untyped-def]
    """1,000 earlier cases in the galleries (generated faces and minutiae): Finish searches
    the galleries, not the store, and the planted duplicate among them is found. The time
    is only held to a generous ceiling here; bench/finish.py measures it."""
    import time
    import uuid

    from verifier.cases.store import CaseStore
    from verifier.counter_session import CounterSessions
    from verifier.fingerprint.analysis import analyse_grey
    from verifier.galleries.open import open_galleries
    from verifier.gallery import Enrolment
    from verifier.synthetic.fingerprints import impression
    from verifier.synthetic.minutiae import generated_finger, iso_record

    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    sessions = CounterSessions(store, models, config,
                               open_galleries(store, models, config))
    galleries = sessions.galleries
    assert galleries is not None
    rng = np.random.default_rng(11)
    for i in range(1000):
        case_id = f"earlier-{i}"
        galleries.face.enrol(Enrolment(case_id, f"17070{i:011d}", "face"),
                             rng.normal(0.0, 0.09, 128).astype(np.float32))
        galleries.fingerprints.enrol_case(case_id, f"17070{i:011d}", {
            p: iso_record(generated_finger(rng)) for p in range(1, 11)})
    # One of them holds this applicant's own fingers under another NIK.
    extractor = models["nbis"]
    planted = {p: analyse_grey(impression(1700 + p, 1), 500, extractor, config.fingerprint)
               .extraction.minutiae.to_iso_19794_2_2005() for p in range(1, 11)}
    galleries.fingerprints.enrol_case("earlier-planted", "1707015208920003", planted)
    assert store.finished_case_ids() == []  # nothing for the rules to read from the store

    sid = str(uuid.uuid4())
    sessions.start(sid, 1, "loket-1", "p-1", {"nik": NIK, "full_name": "SITI AMINAH"})
    seq = 1
    for _ in range(config.photo.capture.steady_frames):
        seq += 1
        sessions.frame(sid, seq, frame_jpeg())
    for position in range(1, 11):
        seq += 1
        sessions.fingerprint(sid, seq, position, 500, finger_png(1700 + position))
    started = time.monotonic()
    verdict = sessions.finish(sid, seq + 1).verdict
    took = time.monotonic() - started
    assert verdict is not None
    hits = {f.evidence.get("other_case") for f in verdict.flags
            if f.rule_id == "fingerprint.matches_other_applicant"}
    assert hits == {"earlier-planted"}
    assert took < 30.0, took
    store.close()
