"""The consistency rules in a real counter session over gRPC: a generated KTP is read by the
document reader (OCR) and compared with the application form by the rules."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.harness import InProcessVerifier
from tests.images import encode
from tests.test_server import run_stream
from lebong_contract.api.v1 import capture_pb2, types_pb2
from verifier.synthetic.ktp import generate_ktp

KTP_IMAGE, KTP = generate_ktp(3)  # RIZKY KURNIAWAN, man, NIK from Rejang Lebong (1702)


def session(application: types_pb2.ApplicationData) -> list[capture_pb2.StationMessage]:
    sid = str(uuid.uuid4())
    start = capture_pb2.SessionStart(station_id="loket-1", officer_id="petugas-7",
                                     application=application)
    ktp = capture_pb2.DocumentImage(kind=types_pb2.DOCUMENT_KIND_KTP, image=encode(KTP_IMAGE))
    return [capture_pb2.StationMessage(client_session_id=sid, sequence=1, start=start),
            capture_pb2.StationMessage(client_session_id=sid, sequence=2, document=ktp),
            capture_pb2.StationMessage(client_session_id=sid, sequence=3,
                                       finish=capture_pb2.Finish())]


def form(name: str, nik: str, born: str, place: str, sex: int) -> types_pb2.ApplicationData:
    d = dt.date.fromisoformat(born)
    return types_pb2.ApplicationData(
        full_name=name, nik=nik, sex=sex, place_of_birth=place,
        date_of_birth=types_pb2.Date(year=d.year, month=d.month, day=d.day),
        passport_type=types_pb2.PASSPORT_TYPE_ORDINARY)


def verdict_flags(verifier: InProcessVerifier, application: types_pb2.ApplicationData) -> dict:
    replies = run_stream(verifier.address, session(application))
    [verdict] = [r.verdict for r in replies if r.WhichOneof("payload") == "verdict"]
    return {f.rule_id: f for f in verdict.flags}


@pytest.mark.slow
def test_form_of_another_person_is_caught_against_the_read_ktp(
        verifier: InProcessVerifier) -> None:
    flags = verdict_flags(verifier, form("SITI AMINAH", "1707014508900001", "1990-08-05",
                                         "MUARA AMAN", types_pb2.SEX_FEMALE))
    for rule in ("identity.name_mismatch", "nik.mismatch", "identity.birth_date_mismatch",
                 "identity.sex_mismatch", "identity.birth_place_mismatch"):
        assert rule in flags, sorted(flags)
    evidence = flags["identity.name_mismatch"].evidence
    assert evidence["application.full_name"] == "SITI AMINAH"
    assert evidence["ktp@2.nama"] == KTP["nama"]
    assert flags["nik.mismatch"].evidence["ktp@2.nik"] == KTP["nik"]


@pytest.mark.slow
def test_form_that_agrees_with_the_read_ktp_raises_no_identity_flag(
        verifier: InProcessVerifier) -> None:
    flags = verdict_flags(verifier, form(f"H. {KTP['nama']}", KTP["nik"], KTP["tanggal_lahir"],
                                         KTP["tempat_lahir"], types_pb2.SEX_MALE))
    assert not [r for r in flags if r.startswith(("identity.name_m", "identity.name_p", "nik.",
                                                   "identity.birth", "identity.sex"))], flags
    assert "title 'H'" in flags["identity.name_variant"].evidence["variant"]
    # The card prints a validity date that has passed (the KTP generator's choice).
    assert ("ktp.validity_date_passed" in flags) == (
        KTP["berlaku_hingga"] < dt.date.today().isoformat())
