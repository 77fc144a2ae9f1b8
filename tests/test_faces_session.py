"""Face results in real counter sessions over gRPC: live capture vs the KTP and old-passport
photos, and duplicate-identity search against earlier (enrolled at their verdict) cases."""

from __future__ import annotations

import uuid

import grpc
import numpy as np
import pytest

from tests.harness import InProcessVerifier
from tests.images import encode
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2
from verifier.face.document_faces import find_face
from verifier.gallery import Enrolment
from verifier.synthetic.frames import astronaut, framed_face
from verifier.synthetic.recapture import Degradation, recapture

pytestmark = pytest.mark.slow

LIVE = encode(framed_face())
CARD = encode(recapture(astronaut()[0:330, 70:370], seed=3,
                        degradation=Degradation(card_width_px=1000, tilt_deg=3, glare=0.1,
                                                pattern_opacity=0.15, jpeg_quality=85)).rgb)


def cameraman() -> np.ndarray:
    import skimage.data

    return np.ascontiguousarray(np.stack([skimage.data.camera()] * 3, axis=-1))


def session(address: str, nik: str, documents: list[tuple[int, bytes]], steady: int
            ) -> types_pb2.Verdict:
    sid, seq = str(uuid.uuid4()), 0

    def msg(**payload: object) -> capture_pb2.StationMessage:
        nonlocal seq
        seq += 1
        return capture_pb2.StationMessage(client_session_id=sid, sequence=seq,
                                          **payload)  # type: ignore[arg-type]

    msgs = [msg(start=capture_pb2.SessionStart(
        station_id="loket-1", officer_id="petugas-7",
        application=types_pb2.ApplicationData(full_name="EILEEN", nik=nik)))]
    msgs += [msg(frame=capture_pb2.CameraFrame(jpeg=LIVE)) for _ in range(steady)]
    msgs += [msg(document=capture_pb2.DocumentImage(kind=kind, image=data))
             for kind, data in documents]
    msgs.append(msg(finish=capture_pb2.Finish()))
    with grpc.insecure_channel(address) as ch:
        replies = list(capture_pb2_grpc.CaptureServiceStub(ch).Session(iter(msgs), timeout=120))
    (verdict,) = [r.verdict for r in replies if r.WhichOneof("payload") == "verdict"]
    return verdict


def face_flags(verdict: types_pb2.Verdict) -> dict[str, types_pb2.Flag]:
    return {f.rule_id: f for f in verdict.flags if f.rule_id.startswith("face.")}


def matches(verdict: types_pb2.Verdict) -> dict[str, types_pb2.MatchResult]:
    return {m.reference: m for m in verdict.matches if m.modality == "face"}


def test_live_face_against_documents_and_earlier_applicants(verifier: InProcessVerifier) -> None:
    steady = verifier.config.photo.capture.steady_frames
    # 1. The applicant's own KTP (printed, recaptured) and old passport photo: both match.
    genuine = session(verifier.address, "1707014508900001",
                      [(types_pb2.DOCUMENT_KIND_KTP, CARD),
                       (types_pb2.DOCUMENT_KIND_OLD_PASSPORT, encode(framed_face(0.35)))],
                      steady)
    found = matches(genuine)
    assert set(found) == {"ktp_photo", "old_passport_photo"}
    for m in found.values():
        assert m.match and m.probe == "live_capture" and m.score >= m.threshold
        assert m.operating_point == "FMR=1e-3"
        assert m.model.startswith("face_recognition_resnet@55533b28a958")
    assert not face_flags(genuine)

    # 2. Someone else's KTP photo (the cameraman).
    impostor = session(verifier.address, "1707010101900002",
                       [(types_pb2.DOCUMENT_KIND_KTP, encode(cameraman()))], steady)
    assert not matches(impostor)["ktp_photo"].match
    flag = face_flags(impostor)["face.mismatch_ktp_photo"]
    assert flag.severity == types_pb2.SEVERITY_REVIEW
    assert impostor.decision in (types_pb2.DECISION_REVIEW, types_pb2.DECISION_FAIL)
    ev = dict(flag.evidence)
    case_id = impostor.case_id
    # Both face crops are named: the accepted frame and the document, with the face box.
    assert ev["probe_crop"].startswith(f"case:{case_id}/message:{1 + steady}/box:")
    assert ev["reference_crop"].startswith(f"case:{case_id}/message:{2 + steady}/box:")
    assert float(ev["distance"]) > 1 - float(ev["threshold"])
    assert "tidak cocok" in flag.message_id and "does not match" in flag.message_en

    # 3. Every finished case is enrolled at its verdict; the same face returns under another
    # NIK. The counter learns that a review is needed, not who the other applicant is.
    again = session(verifier.address, "1707014508900099", [], steady)
    dup = face_flags(again)["face.duplicate_identity"]
    assert dup.severity == types_pb2.SEVERITY_REVIEW
    assert "1707014508900001" not in again.SerializeToString().decode("latin-1")
    # Both earlier cases showed this live face (the impostor held someone else's card).
    assert [m.match for m in again.matches if m.reference == "gallery"] == [True, True]
    stored = verifier.store.verdict(again.case_id)
    assert stored is not None and {f.evidence.get("other_case") for f in stored.flags
                                   if f.rule_id == "face.duplicate_identity"} == {
        genuine.case_id, impostor.case_id}

    # 4. A NIK enrolled with a different face (the cameraman's) comes back with this face.
    models = verifier.server.runtime.models
    other = find_face(cameraman(), models, verifier.config.face)
    galleries = verifier.server.runtime.sessions.galleries  # the server's own
    assert galleries is not None
    galleries.face.enrol(
        Enrolment("earlier-case", "1707015555550005", "face"), other.template.embedding)
    taken = session(verifier.address, "1707015555550005", [], steady)
    assert "face.nik_face_mismatch" in face_flags(taken)
    assert "face.duplicate_identity" in face_flags(taken)  # still the first applicant's face
    assert False in [m.match for m in taken.matches if m.reference == "gallery"]

    # The same NIK and the same face (a renewal) matches its earlier enrolment; that this face
    # was since shown under other NIKs (cases 2-4) is still a duplicate to review.
    renewal = session(verifier.address, "1707014508900001", [], steady)
    assert set(face_flags(renewal)) == {"face.duplicate_identity"}
    assert all(m.match for m in renewal.matches if m.reference == "gallery")
