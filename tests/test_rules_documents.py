"""Each consistency rule on generated cases, positive and negative: the case is built as the
counter session stores it (messages with the readers' fields), then gathered and checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from verifier.cases.store import CaseContents, StoredMessage
from verifier.consistency import (document_rules, identity_rules, ktp_rules, minor_rules,
                                  passport_rules)
from verifier.consistency.case_evidence import case_evidence
from verifier.consistency.facts import CaseFacts, gather_facts
from verifier.consistency.verdict import Decision, Flag, Match, Severity, decide

VISIT = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.timezone.utc)
# SITI AMINAH, woman born 1990-08-05 in Muara Aman, NIK first issued in Lebong (1707).
APPLICATION = {"full_name": "SITI AMINAH", "nik": "1707014508900001",
               "date_of_birth": "1990-08-05", "place_of_birth": "MUARA AMAN", "sex": "FEMALE",
               "passport_type": "ELECTRONIC"}
KTP = {"provinsi": "BENGKULU", "kabupaten_kota": "KABUPATEN LEBONG", "nik": "1707014508900001",
       "nama": "SITI AMINAH", "tempat_lahir": "MUARA AMAN", "tanggal_lahir": "1990-08-05",
       "jenis_kelamin": "PEREMPUAN", "berlaku_hingga": "SEUMUR HIDUP"}
AKTA = {"nomor_akta": "1707-LT-05081990-0001", "nama": "SITI AMINAH",
        "tempat_lahir": "MUARA AMAN", "tanggal_lahir": "1990-08-05", "nama_ayah": "HASAN",
        "nama_ibu": "RAHMAWATI"}
PASSPORT = {"document_type": "P", "issuing_state": "IDN", "document_number": "B1234567",
            "surname": "AMINAH", "given_names": "SITI", "nationality": "IDN",
            "tanggal_lahir": "1990-08-05", "jenis_kelamin": "PEREMPUAN",
            "personal_number": "", "mrz_check_digits_ok": "true"}


def case(application: dict[str, Any] | None = None,
         documents: list[tuple[str, dict[str, str]]] | None = None,
         extra: tuple[StoredMessage, ...] = (), capture: int | None = None) -> CaseContents:
    docs = [("KTP", KTP)] if documents is None else documents
    messages = [StoredMessage(
        sequence=i + 2, kind="document", subtype=kind, error=None, has_payload=True,
        result={"summary": "", "checks": [], "record": {},
                "fields": [{"name": k, "value": v, "raw_text": v, "confidence": 0.9}
                           for k, v in fields.items()]})
        for i, (kind, fields) in enumerate(docs)]
    return CaseContents(case_id="c1", application=APPLICATION if application is None
                        else application, capture_sequence=capture,
                        messages=tuple(messages) + extra, started_at=VISIT)


def facts(**kw: Any) -> CaseFacts:
    return gather_facts(case_evidence(case(**kw)))


def rule_ids(flags: list) -> list[str]:
    return sorted(f.rule_id for f in flags)


def full_case() -> CaseFacts:
    return facts(documents=[("KTP", KTP), ("AKTA_KELAHIRAN", AKTA), ("OLD_PASSPORT", PASSPORT)])


def test_a_consistent_adult_case_raises_no_review_flag() -> None:
    flags = [f for rule in document_rules.FACT_RULES for f in rule(full_case())]
    assert [f for f in flags if f.severity >= Severity.REVIEW] == []


# -- names --------------------------------------------------------------------------------

def test_name_variant_is_info_and_explained() -> None:
    flags = identity_rules.name_agrees(facts(documents=[("KTP", dict(
        KTP, nama="HJ. SITI AMINAH"))]))
    assert rule_ids(flags) == ["identity.name_variant"]
    assert flags[0].severity is Severity.INFO
    assert "title 'HJ'" in flags[0].evidence["variant"]
    assert flags[0].evidence["ktp@2.nama"] == "HJ. SITI AMINAH"
    assert flags[0].evidence["application.full_name"] == "SITI AMINAH"


def test_name_mismatch_fails_with_both_values_as_evidence() -> None:
    flags = identity_rules.name_agrees(facts(documents=[("KTP", KTP), (
        "AKTA_KELAHIRAN", dict(AKTA, nama="RINA MARLINA"))]))
    assert rule_ids(flags) == ["identity.name_mismatch"]
    assert flags[0].severity is Severity.FAIL
    assert flags[0].evidence["akta_kelahiran@3.nama"] == "RINA MARLINA"


def test_partial_name_needs_review() -> None:
    flags = identity_rules.name_agrees(facts(documents=[("KTP", dict(
        KTP, nama="SITI AMINAH PUTRI"))]))
    assert rule_ids(flags) == ["identity.name_partial"]
    assert flags[0].severity is Severity.REVIEW


def test_passport_name_is_compared_either_way_round() -> None:
    swapped = dict(PASSPORT, surname="SITI", given_names="AMINAH")
    assert identity_rules.name_agrees(facts(documents=[("OLD_PASSPORT", swapped)])) == []
    other = dict(PASSPORT, surname="SANTOSO", given_names="BUDI")
    assert rule_ids(identity_rules.name_agrees(facts(documents=[("OLD_PASSPORT", other)]))) == [
        "identity.name_mismatch"]


# -- birth date, place, sex -------------------------------------------------------------------

def test_birth_date_mismatch_between_form_and_ktp() -> None:
    flags = identity_rules.birth_date_agrees(facts(documents=[("KTP", dict(
        KTP, tanggal_lahir="1990-08-06"))]))
    assert rule_ids(flags) == ["identity.birth_date_mismatch"]
    assert flags[0].evidence["ktp@2.tanggal_lahir"] == "1990-08-06"
    assert flags[0].evidence["nik.birth_date"] == "1990-08-05"


def test_birth_date_against_the_nik_alone() -> None:
    # The form and the KTP agree with each other but not with the NIK's encoded date.
    app = dict(APPLICATION, date_of_birth="1991-08-05")
    flags = identity_rules.birth_date_agrees(facts(application=app, documents=[("KTP", dict(
        KTP, tanggal_lahir="1991-08-05"))]))
    assert rule_ids(flags) == ["identity.birth_date_mismatch"]
    assert flags[0].evidence["nik.birth_date"] == "1990-08-05"


def test_birth_place_spelling_of_regency_is_tolerated_but_other_place_is_not() -> None:
    assert identity_rules.birth_place_agrees(facts(documents=[("KTP", dict(
        KTP, tempat_lahir="KAB. MUARA AMAN"))])) == []
    flags = identity_rules.birth_place_agrees(facts(documents=[("KTP", dict(
        KTP, tempat_lahir="CURUP"))]))
    assert rule_ids(flags) == ["identity.birth_place_mismatch"]
    assert flags[0].severity is Severity.REVIEW


def test_sex_against_the_nik() -> None:
    assert identity_rules.sex_agrees(full_case()) == []
    app = dict(APPLICATION, sex="MALE")
    flags = identity_rules.sex_agrees(facts(application=app, documents=[("KTP", dict(
        KTP, jenis_kelamin="LAKI-LAKI"))]))
    assert rule_ids(flags) == ["identity.sex_mismatch"]
    assert flags[0].evidence["nik.sex"] == "FEMALE"


# -- KTP and NIK -----------------------------------------------------------------------------

def test_nik_on_form_differs_from_card() -> None:
    flags = ktp_rules.nik_agrees(facts(application=dict(APPLICATION, nik="1707014508900002")))
    assert rule_ids(flags) == ["nik.mismatch"]


def test_nik_that_does_not_decode_is_flagged_with_its_problems() -> None:
    flags = ktp_rules.nik_valid(facts(application=dict(APPLICATION, nik="1707019908900001"),
                                      documents=[]))
    assert rule_ids(flags) == ["nik.invalid"]
    assert flags[0].evidence["problems"]
    assert ktp_rules.nik_valid(full_case()) == []


def test_nik_region_against_header() -> None:
    assert ktp_rules.nik_region_matches_header(full_case()) == []
    # An older Lebong resident: NIK from Rejang Lebong, card printed in Lebong: information.
    moved = dict(KTP, nik="1702014508900001")
    flags = ktp_rules.nik_region_matches_header(facts(
        application=dict(APPLICATION, nik=moved["nik"]), documents=[("KTP", moved)]))
    assert rule_ids(flags) == ["nik.regency_differs_from_header"]
    assert flags[0].severity is Severity.INFO
    other_province = dict(KTP, provinsi="LAMPUNG")
    flags = ktp_rules.nik_region_matches_header(facts(documents=[("KTP", other_province)]))
    assert rule_ids(flags) == ["nik.province_differs_from_header"]
    assert flags[0].severity is Severity.REVIEW


def test_ktp_past_its_printed_validity_date() -> None:
    assert ktp_rules.ktp_validity(full_case()) == []
    assert ktp_rules.ktp_validity(facts(documents=[("KTP", dict(
        KTP, berlaku_hingga="2027-01-01"))])) == []
    flags = ktp_rules.ktp_validity(facts(documents=[("KTP", dict(
        KTP, berlaku_hingga="2016-08-05"))]))
    assert rule_ids(flags) == ["ktp.validity_date_passed"]
    assert flags[0].evidence["case_date"] == "2026-11-28"


# -- old passport ----------------------------------------------------------------------------

def test_mrz_check_digits_and_nationality() -> None:
    assert [f for rule in passport_rules.RULES for f in rule(full_case())] == []
    bad = dict(PASSPORT, mrz_check_digits_ok="false", nationality="MYS")
    flags = [f for rule in passport_rules.RULES for f in rule(facts(documents=[
        ("OLD_PASSPORT", bad)]))]
    assert rule_ids(flags) == ["passport.mrz_check_digits_failed", "passport.nationality_not_idn"]


def test_mrz_personal_number_as_nik() -> None:
    same = dict(PASSPORT, personal_number="1707014508900001")
    assert passport_rules.mrz_nik(facts(documents=[("KTP", KTP), ("OLD_PASSPORT", same)])) == []
    other = dict(PASSPORT, personal_number="1707014508900009")
    assert rule_ids(passport_rules.mrz_nik(facts(documents=[("KTP", KTP), (
        "OLD_PASSPORT", other)]))) == ["passport.nik_mismatch"]


def test_passport_birth_date_and_sex_join_the_identity_rules() -> None:
    male = dict(PASSPORT, jenis_kelamin="M", tanggal_lahir="1990-05-08")
    fs = facts(documents=[("KTP", KTP), ("OLD_PASSPORT", male)])
    assert rule_ids(identity_rules.sex_agrees(fs)) == ["identity.sex_mismatch"]
    assert rule_ids(identity_rules.birth_date_agrees(fs)) == ["identity.birth_date_mismatch"]


# -- minors ----------------------------------------------------------------------------------

CHILD_APP = {"full_name": "M. RAFI ALFARIZI", "nik": "1707011503150002",
             "date_of_birth": "2015-03-15", "place_of_birth": "MUARA AMAN", "sex": "MALE"}
CHILD_AKTA = {"nama": "MUHAMMAD RAFI ALFARIZI", "tanggal_lahir": "2015-03-15",
              "tempat_lahir": "MUARA AMAN", "nama_ayah": "HASAN BASRI",
              "nama_ibu": "HJ. RAHMAWATI"}
FATHER = dict(KTP, nik="1707011002850003", nama="HASAN BASRI", jenis_kelamin="LAKI-LAKI",
              tanggal_lahir="1985-02-10")
MOTHER = dict(KTP, nik="1707015506870004", nama="RAHMAWATI", tanggal_lahir="1987-06-15")


def test_minor_with_everything_raises_nothing() -> None:
    fs = facts(application=dict(CHILD_APP, parents_consent=True), documents=[
        ("AKTA_KELAHIRAN", CHILD_AKTA), ("KTP", FATHER), ("KTP", MOTHER)])
    assert minor_rules.minor_documents(fs) == []
    # ... and the parents' KTPs are not compared with the child's identity.
    assert [f for f in identity_rules.name_agrees(fs) if f.severity >= Severity.REVIEW] == []


def test_minor_without_parents_documents_or_consent() -> None:
    flags = minor_rules.minor_documents(facts(application=CHILD_APP, documents=[]))
    assert rule_ids(flags) == ["minor.birth_certificate_missing", "minor.consent_missing",
                               "minor.parent_ktp_missing"]
    assert flags[0].evidence["age_years"] == "11"


def test_parent_name_on_certificate_must_be_on_a_parent_ktp() -> None:
    stranger = dict(MOTHER, nama="SRI WAHYUNI")
    flags = minor_rules.minor_documents(facts(
        application=dict(CHILD_APP, parents_consent=True),
        documents=[("AKTA_KELAHIRAN", CHILD_AKTA), ("KTP", FATHER), ("KTP", stranger)]))
    assert rule_ids(flags) == ["minor.parent_name_mismatch"]
    assert flags[0].evidence["akta_kelahiran@2.nama_ibu"] == "HJ. RAHMAWATI"


def test_seventeen_today_is_an_adult() -> None:
    app = dict(CHILD_APP, date_of_birth="2009-11-28", nik="1707012811090002")
    assert minor_rules.minor_documents(facts(application=app, documents=[])) == []
    app = dict(app, date_of_birth="2009-11-29", nik="1707012911090002")
    assert minor_rules.minor_documents(facts(application=app, documents=[])) != []


# -- absent and malformed input --------------------------------------------------------------

@pytest.mark.parametrize("application", [
    {}, {"full_name": "", "nik": None, "date_of_birth": None},
    {"full_name": "X", "nik": "not a nik", "date_of_birth": "05/08/1990", "sex": "?"}])
def test_missing_or_garbled_values_never_crash(application: dict[str, Any]) -> None:
    garbled = {"nama": "", "tanggal_lahir": "tujuh belas", "nik": "17O7", "berlaku_hingga": "?"}
    for documents in ([], [("KTP", garbled)], [("OLD_PASSPORT", {"surname": "X"})]):
        fs = facts(application=application, documents=documents)
        for rule in document_rules.FACT_RULES:
            rule(fs)


# -- biometric results -----------------------------------------------------------------------

def _match(reference: str, match: bool) -> Match:
    return Match(modality="face", probe="live_capture", reference=reference, score=0.7,
                 score_unit="cosine", threshold=0.6, operating_point="FMR=1e-3", match=match,
                 model="dlib_resnet:abcd")


def test_a_failed_document_comparison_nobody_flagged_reaches_review() -> None:
    assert decide("c1", [], (_match("ktp_photo", True), _match("gallery:c0", False))
                  ).decision is Decision.PASS
    v = decide("c1", [], (_match("ktp_photo", False), _match("gallery:c0", True)))
    assert v.decision is Decision.REVIEW
    assert [f.rule_id for f in v.flags] == ["face.no_match"]
    assert v.flags[0].evidence["threshold"] == "0.6"


def test_a_match_already_flagged_by_its_analyser_is_not_flagged_twice() -> None:
    own = Flag("face.ktp_photo_mismatch", Severity.REVIEW, "x", "x")
    v = decide("c1", [own], (_match("ktp_photo", False),))
    assert [f.rule_id for f in v.flags] == ["face.ktp_photo_mismatch"]
