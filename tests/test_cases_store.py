"""The case store on SQLite and on a real PostgreSQL server: sealed evidence, no image or
template in the database's raw bytes, key rotation, retention, accounts and the review queue."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from tests.authenticator import role_of
from tests.images import encode
from verifier.cases import migrate
from verifier.cases.crypto import EvidenceKeyError, KeyRing, generate_ring
from verifier.cases.schema import Base
from verifier.cases.store import CaseStore, QueueFilter, keys_for
from verifier.consistency.verdict import Flag, Severity, decide
from lebong_contract.errors import VerifierError

RNG = np.random.default_rng(7)
PHOTO = encode((RNG.random((120, 90, 3)) * 255).astype(np.uint8))  # a JPEG
TEMPLATE = base64.b64encode(RNG.bytes(300)).decode()  # stands in for a minutiae template
EMBEDDING = [round(float(x), 6) for x in RNG.standard_normal(8)]
NAME, NIK = "SITI AMINAH BINTI HASAN", "1707014508900001"
KEYS = generate_ring()
STATION = "loket-marker-7f3a"  # kept in clear on purpose: proves the raw-byte scan works


def fill_case(store: CaseStore, sid: str = "s1", station: str = STATION,
              rule: str = "identity.name_mismatch") -> str:
    case, _ = store.start_session(sid, 1, station, "petugas-1",
                                  {"full_name": NAME, "nik": NIK})
    store.record_message(case.case_id, 2, "frame", data=PHOTO, keep_payload=False,
                         result={"ready": True, "requirements": []}, accept_capture=True)
    store.record_message(case.case_id, 3, "document", data=PHOTO, keep_payload=True,
                         subtype="KTP", result={"fields": [{"name": "nama", "value": NAME}],
                                                "record": {"template": TEMPLATE,
                                                           "embedding": EMBEDDING}})
    flag = Flag(rule, Severity.FAIL, "x", "x", {"application.full_name": NAME})
    store.finish(case.case_id, 4, decide(case.case_id, [flag]))
    return case.case_id


def raw_database_bytes(store: CaseStore, url: str, request: pytest.FixtureRequest) -> bytes:
    """Every byte the database keeps on disk."""
    if url.startswith("sqlite"):
        store.close()
        path = Path(url.removeprefix("sqlite:///"))
        files = sorted(path.parent.glob(path.name + "*"))
        return b"".join(f.read_bytes() for f in files if not f.name.endswith(".key"))
    with store.engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    data = request.getfixturevalue("postgres_server").data
    return b"".join(f.read_bytes() for f in sorted(data.rglob("*")) if f.is_file())


def test_contents_round_trip_through_encryption(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    case_id = fill_case(store)
    contents = store.contents(case_id)
    assert contents.application["full_name"] == NAME
    assert contents.messages[2].result["record"]["template"] == TEMPLATE
    assert store.payload(case_id, 2) == PHOTO and store.payload(case_id, 3) == PHOTO
    verdict = store.verdict(case_id)
    assert verdict is not None and verdict.flags[0].evidence["application.full_name"] == NAME
    assert store.check_resend(case_id, 3, "") and not store.check_resend(case_id, 9, "")
    assert store.message_counts() == {"start": 1, "frame": 1, "document": 1, "finish": 1}


def test_no_image_template_or_name_in_the_raw_database_bytes(
        case_db_url: str, request: pytest.FixtureRequest) -> None:
    store = CaseStore(case_db_url, KEYS)
    fill_case(store)
    raw = raw_database_bytes(store, case_db_url, request)
    assert STATION.encode() in raw  # the scan sees clear columns...
    for secret in (PHOTO[:64], PHOTO[-64:], b"\xff\xd8\xff", TEMPLATE[:40].encode(),
                   json.dumps(EMBEDDING)[1:30].encode(), NAME.encode(), NIK.encode()):
        assert secret not in raw  # ...and finds no evidence or personal data


def test_altered_or_moved_ciphertext_is_refused(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    a, b = fill_case(store, "s1"), fill_case(store, "s2")
    with store.engine.begin() as conn:
        blob = conn.execute(text("SELECT payload FROM messages WHERE case_id = :c AND "
                                 "sequence = 3"), {"c": a}).scalar_one()
        conn.execute(text("UPDATE messages SET payload = :p WHERE case_id = :c AND "
                          "sequence = 3"), {"p": blob, "c": b})
    with pytest.raises(EvidenceKeyError, match="failed authentication"):
        store.payload(b, 3)  # a's photo copied onto b's case
    flipped = bytearray(blob)
    flipped[-5] ^= 1
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE messages SET payload = :p WHERE case_id = :c AND "
                          "sequence = 3"), {"p": bytes(flipped), "c": a})
    with pytest.raises(EvidenceKeyError):
        store.payload(a, 3)


def test_key_rotation_reencrypts_everything(case_db_url: str) -> None:
    old = generate_ring()
    store = CaseStore(case_db_url, old)
    case_id = fill_case(store)
    store.record_review(case_id, "rina", "REJECT", f"name differs: {NAME}")
    both = generate_ring(old)
    changed = store.reencrypt(both)
    assert changed == 7  # application, verdict, 2 payloads, 2 results, 1 review reason
    new_only = KeyRing({both.active_id: both.keys[both.active_id]}, both.active_id)
    rotated = CaseStore(case_db_url, new_only)
    assert rotated.payload(case_id, 3) == PHOTO
    assert rotated.reviews(case_id)[0].reason.endswith(NAME)
    assert rotated.reencrypt(new_only) == 0  # nothing left under the old key
    with pytest.raises(EvidenceKeyError, match="not in the key ring"):
        CaseStore(case_db_url, old).payload(case_id, 3)


def test_retention_purges_old_evidence_only(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    old_case, new_case = fill_case(store, "old"), fill_case(store, "new")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET started_at = :t WHERE id = :c"),
                     {"t": dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400),
                      "c": old_case})
    dry = store.purge_evidence(365, dry_run=True)
    assert (dry.cases, dry.payloads_removed, dry.templates_removed) == (1, 2, 1)
    assert store.payload(old_case, 3) == PHOTO  # a dry run changes nothing
    report = store.purge_evidence(365)
    assert (report.cases, report.payloads_removed) == (1, 2)
    assert store.payload(old_case, 3) is None and store.payload(new_case, 3) == PHOTO
    kept = store.contents(old_case).messages[2].result
    assert "record" not in kept and kept["fields"][0]["value"] == NAME  # the fields stay
    assert store.summary(old_case).evidence_purged
    assert store.purge_evidence(365).cases == 0
    assert store.audit.entries()[0].action == "retention_purge"


def test_accounts_and_password_hashes(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    store.add_user("rina", "correct horse battery", "reviewer")
    assert role_of(store, "rina", "correct horse battery") == "reviewer"
    assert role_of(store, "rina", "correct horse batterY") is None
    assert role_of(store, "nobody", "correct horse battery") is None
    with pytest.raises(ValueError, match="already exists"):
        store.add_user("rina", "another long password", "auditor")
    with pytest.raises(ValueError, match="at least 12"):
        store.add_user("budi", "short", "reviewer")
    store.set_user_disabled("rina", True)
    assert role_of(store, "rina", "correct horse battery") is None
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("scrypt$") and "correct horse" not in stored


def test_queue_filters_and_decisions(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    a = fill_case(store, "a", station="loket-1", rule="identity.name_mismatch")
    b = fill_case(store, "b", station="loket-2", rule="face.mismatch_ktp_photo")
    case, _ = store.start_session("p", 1, "loket-1", "petugas-1", {})
    store.finish(case.case_id, 2, decide(case.case_id, []))  # PASS: not queued
    assert [c.case_id for c in store.queue()] == [a, b]
    assert [c.case_id for c in store.queue(QueueFilter(station_id="loket-2"))] == [b]
    assert [c.case_id for c in store.queue(QueueFilter(rule="identity."))] == [a]
    assert [c.case_id for c in store.queue(QueueFilter(rule="identity.name"))] == []
    assert store.queue(QueueFilter(officer_id="someone-else")) == []
    today = dt.date.today()
    assert len(store.queue(QueueFilter(since=today, until=today))) == 2
    assert store.queue(QueueFilter(until=today - dt.timedelta(days=1))) == []
    store.record_review(a, "rina", "REQUEST_DOCUMENTS", "bring the birth certificate")
    assert [c.case_id for c in store.queue()] == [a, b]  # still open
    store.record_review(a, "rina", "APPROVE", "birth certificate confirms the name")
    assert [c.case_id for c in store.queue()] == [b]
    assert [r.decision for r in store.reviews(a)] == ["REQUEST_DOCUMENTS", "APPROVE"]
    with pytest.raises(ValueError, match="reason"):
        store.record_review(b, "rina", "REJECT", "   ")
    with pytest.raises(ValueError, match="decision"):
        store.record_review(b, "rina", "MAYBE", "unsure")


def test_migrations_bring_a_new_database_to_head(case_db_url: str) -> None:
    store = CaseStore(case_db_url, KEYS)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    CaseStore(case_db_url, KEYS)  # opening again migrates nothing and keeps the data


def test_a_database_from_before_migrations_is_refused_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    Base.metadata.create_all(create_engine(url))  # as the pre-migration builds made it
    with pytest.raises(VerifierError, match="predates schema migrations"):
        CaseStore(url, KEYS)


def test_server_database_without_key_is_refused() -> None:
    with pytest.raises(EvidenceKeyError, match="needs an evidence key"):
        keys_for("postgresql+psycopg://x@127.0.0.1:1/x")
    with pytest.raises(EvidenceKeyError, match="base64"):
        keys_for("sqlite://", inline=("k1:not base64!",))
    with pytest.raises(EvidenceKeyError, match="32"):
        keys_for("sqlite://", inline=("k1:" + base64.b64encode(b"short").decode(),))


def test_sqlite_store_without_configured_key_creates_a_private_key_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    case_id = fill_case(CaseStore(url))
    key_file = tmp_path / "c.sqlite3.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert CaseStore(url).payload(case_id, 3) == PHOTO  # the same key next time
