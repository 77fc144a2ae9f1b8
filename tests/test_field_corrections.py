"""Officers' corrections of document fields, end to end over the real gRPC server: the
correction is its own committed message, kept next to the reading; the verdict judges the
corrected value and says a field was corrected; the review page shows both with the officer;
refusals name what is wrong; a resend is a duplicate; nothing is corrected after Finish. And
the station's `StationSession.correct_field` spools and sends one."""

from __future__ import annotations

import asyncio
import functools
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture_station.documents import DocumentScan
from capture_station.errors import DocumentError, SessionError
from capture_station.session import SessionConfig, SessionEvents, StationSession
from capture_station.spool import Spool
from tests.complete_case import BIRTH_PLACE, NIK, Session, blank_png
from tests.harness import InProcessVerifier
from tests.images import encode
from tests.test_server import error_reason, of, run_stream
from lebong_contract.api.v1 import capture_pb2, types_pb2
from verifier.config import load_config
from verifier.consistency.case_evidence import case_evidence
from verifier.review.app import create_app
from verifier.synthetic.identity import identity_with_nik
from verifier.synthetic.ktp import generate_ktp

OFFICER = "petugas-7"  # tests.complete_case.Session's officer
PRINTED_NAME = "DEWI LESTARI"  # what the card says (and the reader reads) ...
FORM_NAME = "SITI AMINAH"  # ... while the form and the officer say this
NOTE = "huruf kabur, dibaca dari kartu asli"
PASSWORD = "kata sandi auditor"


def card() -> bytes:
    """A card with nothing to read: committed as a document with no fields, quickly (a
    small image keeps the reader and the portrait search to about a second)."""
    return blank_png(48, 32)


@functools.cache
def misread_ktp() -> bytes:
    """A card of the form's NIK whose name reads as another's: what a misread looks like to
    the rules (the officer, holding the card, corrects it)."""
    person = identity_with_nik(random.Random(7), NIK, PRINTED_NAME, BIRTH_PLACE)
    return encode(generate_ktp(7, person)[0])


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessVerifier]:
    v = InProcessVerifier(f"sqlite:///{tmp_path_factory.mktemp('corrections') / 'c.sqlite3'}")
    yield v
    v.stop()


def correction(s: Session, document_sequence: int, field: str, value: str,
               kind: int = types_pb2.DOCUMENT_KIND_KTP) -> capture_pb2.StationMessage:
    return s.next(field_correction=capture_pb2.FieldCorrection(
        document_kind=kind, document_sequence=document_sequence, field=field, value=value,
        officer_note=NOTE))


def name_flags(verdict: capture_pb2.Verdict) -> list[types_pb2.Flag]:
    return [f for f in verdict.flags if f.rule_id.startswith("identity.name_")
            and f.severity >= types_pb2.SEVERITY_REVIEW]


@pytest.mark.slow
def test_a_corrected_name_is_judged_and_flagged_and_the_reading_kept(
        verifier: InProcessVerifier) -> None:
    s = Session()
    msgs = [s.start(), s.document(misread_ktp()), correction(s, 2, "nama", "siti  aminah"),
            correction(s, 2, "nik", NIK), s.finish()]  # the NIK only confirmed as read
    replies = run_stream(verifier.address, msgs)
    assert not of(replies, "error")
    ktp, corrected, _ = of(replies, "item_result")
    assert {f.name: f.value for f in ktp.fields}["nama"] == PRINTED_NAME
    (field,) = corrected.fields
    assert corrected.sequence == 3 and (field.name, field.value, field.corrected_by) == (
        "nama", FORM_NAME, "officer")
    # What the officer still has to do comes back after each item.
    progress = of(replies, "case_progress")
    assert [p.sequence for p in progress] == [2, 3, 4]
    assert {f.rule_id for f in progress[-1].missing} >= {"photo.no_live_capture",
                                                         "fingerprint.none_captured"}

    (verdict,) = of(replies, "verdict")
    assert name_flags(verdict) == []  # judged on the corrected name
    flag, confirmed = [f for f in verdict.flags if f.rule_id == "documents.field_corrected"]
    # A name correction goes to a person (corrections.py says why); a confirmation does not.
    assert flag.severity == types_pb2.SEVERITY_REVIEW
    assert (confirmed.severity, confirmed.evidence["ktp@2.nik"]) == (types_pb2.SEVERITY_INFO,
                                                                     NIK)
    evidence = dict(flag.evidence)
    assert 0 < float(evidence.pop("read_confidence")) <= 1
    assert evidence == {"ktp@2.nama": FORM_NAME, "read_value": PRINTED_NAME,
                        "correction_sequence": "3", "officer": OFFICER, "officer_note": NOTE}

    # The case keeps the reading; the evidence has both.
    case = verifier.store.find_case(s.sid)
    assert case is not None
    contents = verifier.store.contents(case.case_id)
    stored = {f["name"]: f["value"] for f in contents.messages[1].result["fields"]}
    assert stored["nama"] == PRINTED_NAME
    (doc,) = case_evidence(contents).documents
    assert doc.fields["nama"].value == FORM_NAME and doc.read_fields["nama"].value == PRINTED_NAME
    assert [c.sequence for c in doc.corrections] == [3, 4]

    # The review page shows the reading, the correction and who made it.
    verifier.store.add_user("audra", PASSWORD, "auditor")
    client = create_app(verifier.store, load_config(
        cases={"review_require_totp": False})).test_client()
    assert client.post("/login", data={"username": "audra", "password": PASSWORD}
                       ).status_code == 302
    page = client.get(f"/case/{case.case_id}").text
    row = re.search(r"<td>nama</td>(.*?)</tr>", page, re.S)
    assert row is not None
    assert re.search(rf'class="read-value">{PRINTED_NAME}<', row.group(1))
    assert re.search(rf'class="corrected-value">{FORM_NAME}<', row.group(1))
    assert OFFICER in row.group(1) and NOTE in row.group(1)


def test_without_the_correction_the_misread_name_is_flagged(
        verifier: InProcessVerifier) -> None:
    s = Session()
    replies = run_stream(verifier.address, [s.start(), s.document(misread_ktp()), s.finish()])
    (verdict,) = of(replies, "verdict")
    assert [f.evidence["ktp@2.nama"] for f in name_flags(verdict)] == [PRINTED_NAME]
    assert not [f for f in verdict.flags if f.rule_id == "documents.field_corrected"]


def test_only_identity_fields_go_to_review(verifier: InProcessVerifier) -> None:
    """A field that is not the NIK, name or birth date is INFO: recorded, the verdict is
    unchanged by it."""
    s = Session()
    replies = run_stream(verifier.address, [
        s.start(), s.document(card()), correction(s, 2, "pekerjaan", "petani"),
        correction(s, 2, "tanggal_lahir", " 1990-08-05 "), s.finish()])
    assert not of(replies, "error")
    (verdict,) = of(replies, "verdict")
    found = {next(k for k in f.evidence if k.startswith("ktp@2.")): f.severity
             for f in verdict.flags if f.rule_id == "documents.field_corrected"}
    # Neither was read off the blank card: the birth date is supplied, so it goes to review.
    assert found == {"ktp@2.pekerjaan": types_pb2.SEVERITY_INFO,
                     "ktp@2.tanggal_lahir": types_pb2.SEVERITY_REVIEW}


@pytest.mark.parametrize(("target", "field", "value", "kind", "says"), [
    (2, "golongan", "O", types_pb2.DOCUMENT_KIND_KTP, "KTP has no field 'golongan'"),
    (1, "nama", "X", types_pb2.DOCUMENT_KIND_KTP, "sequence 1 is not a document"),
    (9, "nama", "X", types_pb2.DOCUMENT_KIND_KTP, "sequence 9 is not a document"),
    (2, "nama", "X", types_pb2.DOCUMENT_KIND_AKTA_KELAHIRAN,
     "document 2 is a KTP, not a AKTA_KELAHIRAN"),
    (3, "nama", "X", types_pb2.DOCUMENT_KIND_IJAZAH, "IJAZAH documents are not read"),
    (2, "tanggal_lahir", "5 Agustus 1990", types_pb2.DOCUMENT_KIND_KTP, "YYYY-MM-DD"),
    (2, "nik", "17070145089000O1", types_pb2.DOCUMENT_KIND_KTP, "a NIK is 16 digits"),
    (2, "nama", "   ", types_pb2.DOCUMENT_KIND_KTP, "is empty"),
    (2, "nama", "X", 99, "field_correction.document_kind"),
])
def test_a_bad_correction_is_refused_by_name(verifier: InProcessVerifier, target: int,
                                             field: str, value: str, kind: int,
                                             says: str) -> None:
    s = Session()
    replies = run_stream(verifier.address, [
        s.start(), s.document(card()),
        s.document(card(), kind=types_pb2.DOCUMENT_KIND_IJAZAH),
        correction(s, target, field, value, kind), s.finish()])
    (error,) = of(replies, "error")
    assert error.sequence == 4 and error.status.code == 3  # INVALID_ARGUMENT
    assert says in error.status.message
    assert error_reason(error.status) in ("INVALID_CORRECTION", "UNKNOWN_ENUM_VALUE")
    assert 4 in [a.sequence for a in of(replies, "ack")]  # committed as refused: not resent
    (verdict,) = of(replies, "verdict")
    # The reading stands and the officer was told: nothing for a reviewer (a refused image
    # is another matter: input.item_rejected).
    assert not {"documents.field_corrected", "input.item_rejected"} & {
        f.rule_id for f in verdict.flags}


def test_a_resent_correction_is_a_duplicate(verifier: InProcessVerifier) -> None:
    s = Session()
    first = [s.start(), s.document(card())]
    fix = correction(s, 2, "pekerjaan", "PETANI")
    run_stream(verifier.address, [*first, fix])
    again = run_stream(verifier.address, [fix])  # the station reconnects and resends it
    (ack,) = of(again, "ack")
    assert (ack.sequence, ack.duplicate) == (3, True) and not of(again, "item_result")
    case = verifier.store.find_case(s.sid)
    assert case is not None
    assert [m.sequence for m in verifier.store.messages_of_kind(case.case_id,
                                                                "field_correction")] == [3]
    # The same sequence number with another content is no resend.
    other = capture_pb2.StationMessage()
    other.CopyFrom(fix)
    other.field_correction.value = "NELAYAN"
    (error,) = of(run_stream(verifier.address, [other]), "error")
    assert error_reason(error.status) == "RESEND_CONFLICT"


def test_a_correction_after_finish_is_refused(verifier: InProcessVerifier) -> None:
    s = Session()
    first = run_stream(verifier.address, [s.start(), s.document(card()), s.finish()])
    (verdict,) = of(first, "verdict")
    late = run_stream(verifier.address, [correction(s, 2, "nama", FORM_NAME)])
    (error,) = of(late, "error")
    assert error.sequence == 4 and error.status.code == 9  # FAILED_PRECONDITION
    assert "finished" in error.status.message
    assert error_reason(error.status) == "SESSION_STATE"
    case = verifier.store.find_case(s.sid)
    assert case is not None
    assert verifier.store.messages_of_kind(case.case_id, "field_correction") == ()
    stored = verifier.store.verdict(case.case_id)
    assert stored is not None and [f.rule_id for f in stored.flags] == [
        f.rule_id for f in verdict.flags]
    assert "documents.field_corrected" not in {f.rule_id for f in verdict.flags}


def test_progress_says_what_the_case_still_lacks(verifier: InProcessVerifier) -> None:
    s = Session()
    replies = run_stream(verifier.address, [
        s.start(), s.frame(card()), s.frame(card()), s.document(card()), s.exception(2),
        s.finish()])
    after_card, after_exception = of(replies, "case_progress")  # none after plain frames
    missing = {f.rule_id: f for f in after_card.missing}
    assert after_card.sequence == 4 and set(missing) == {
        "photo.no_live_capture", "documents.ktp_unreadable", "fingerprint.none_captured"}
    assert missing["photo.no_live_capture"].evidence["frames_received"] == "2"
    assert [f.severity for f in after_card.missing] == [types_pb2.SEVERITY_FAIL] * 3
    # One finger declared: the other nine are what is missing now.
    rules = [f.rule_id for f in after_exception.missing]
    assert "fingerprint.none_captured" not in rules
    assert rules.count("fingerprint.finger_missing") == 9


def test_contents_without_frames_keeps_the_accepted_capture(
        verifier: InProcessVerifier) -> None:
    case, _ = verifier.store.start_session("without-frames", 1, "loket-1", OFFICER, {})
    for sequence in (2, 3, 4):
        verifier.store.record_message(case.case_id, sequence, "frame", data=b"f",
                                      keep_payload=False, result={"ready": True},
                                      accept_capture=sequence == 3)
    verifier.store.record_message(case.case_id, 5, "document", data=b"d", keep_payload=False,
                                  subtype="KTP", result={"fields": []})
    assert [m.sequence for m in verifier.store.contents(case.case_id).messages] == [
        1, 2, 3, 4, 5]
    assert [m.sequence for m in verifier.store.contents(case.case_id, frames=False).messages
            ] == [1, 3, 5]


class _Recorder(SessionEvents):
    def __init__(self) -> None:
        self.items: list[capture_pb2.ItemResult] = []
        self.progress: list[capture_pb2.CaseProgress] = []

    def on_item_result(self, result: capture_pb2.ItemResult) -> None:
        self.items.append(result)

    def on_case_progress(self, progress: capture_pb2.CaseProgress) -> None:
        self.progress.append(progress)


def test_the_station_spools_and_sends_a_correction(verifier: InProcessVerifier,
                                                    tmp_path: Path) -> None:
    events = _Recorder()
    session = StationSession(SessionConfig(verifier.address, station_id="loket-1",
                                           officer_id=OFFICER),
                             Spool(tmp_path / "spool.sqlite3"), events=events,
                             interactive=True)

    async def visit() -> None:
        running = asyncio.create_task(session.run())
        await asyncio.sleep(0)  # run() has opened the session in the spool
        with pytest.raises(DocumentError, match="no KTP document was sent"):
            session.correct_field("ktp", "pekerjaan", "PETANI")
        with pytest.raises(DocumentError, match="unknown document kind"):
            session.correct_field("sim", "nama", "X")
        document = session.add_document(DocumentScan(types_pb2.DOCUMENT_KIND_KTP, card(),
                                                     "blank"))
        sequence = session.correct_field("ktp", "pekerjaan", "petani", note=NOTE)
        while sequence not in [i.sequence for i in events.items]:
            await asyncio.sleep(0.05)
        assert (document, sequence) == (2, 3)
        session.finish()
        with pytest.raises(SessionError, match="finished"):
            session.correct_field("ktp", "nama", FORM_NAME)
        report = await running
        assert not report.errors

    asyncio.run(visit())
    (result,) = [i for i in events.items if i.sequence == 3]
    assert [(f.name, f.value) for f in result.fields] == [("pekerjaan", "PETANI")]
    assert [p.sequence for p in events.progress] == [2, 3]
    case = verifier.store.find_case(session.client_session_id)
    assert case is not None
    (stored,) = verifier.store.messages_of_kind(case.case_id, "field_correction")
    assert stored.result is not None and stored.result["officer_note"] == NOTE
