"""The audit log's MAC chain: keyed from the evidence keys, so someone who can write to the
database but lacks the key file cannot rewrite it; checkpoints kept elsewhere catch
truncation and rewriting behind them; key rotation carries the chain along."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from verifier.cases.audit import GENESIS, Checkpoint, chain_keys, entry_hash
from verifier.cases.crypto import KeyRing, generate_ring, load_key_file, write_key_file
from verifier.cases.store import CaseStore
from verifier.cli import main as verifier_main

from tests.test_keys import past_the_reload_window


def filled(url: str, n: int = 6, ring: KeyRing | None = None) -> CaseStore:
    store = CaseStore(url, ring or generate_ring())
    for i in range(n):
        store.audit.append(f"officer-{i}", "view_evidence", f"case-{i}", {"sequence": i})
    return store


def rewrite(store: CaseStore, seq: int, link: Callable[[tuple[object, ...], str], str]
            ) -> None:
    """Alter entry `seq` and recompute every link from there with `link(fields, prev)`, as
    someone with write access to the database would."""
    with store.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, at, actor, action, case_id, detail_json, "
                                 "prev_hash, entry_hash FROM audit_log ORDER BY seq")).all()
        prev = GENESIS if seq == 1 else rows[seq - 2].entry_hash
        for r in rows[seq - 1:]:
            detail = '{"sequence":99}' if r.seq == seq else r.detail_json
            new = link((r.seq, r.at, r.actor, r.action, r.case_id, detail), prev)
            conn.execute(text("UPDATE audit_log SET detail_json = :d, prev_hash = :p, "
                              "entry_hash = :h WHERE seq = :s"),
                         {"d": detail, "p": prev, "h": new, "s": r.seq})
            prev = new


def test_a_chain_recomputed_without_the_key_is_detected(case_db_url: str) -> None:
    store = filled(case_db_url)
    assert store.audit.verify().ok  # twin: untouched
    rewrite(store, 3, lambda f, prev: entry_hash(*f, prev))  # the old plain SHA-256 chain
    check = store.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 3)
    assert "MAC under any evidence key" in check.problem


def test_a_chain_recomputed_with_another_key_is_detected(tmp_path: Path) -> None:
    store = filled(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    forger = b"k" * 32
    rewrite(store, 2, lambda f, prev: hmac.new(
        forger, "\x1f".join(map(str, (*f, prev))).encode(), hashlib.sha256).hexdigest())
    assert store.audit.verify().first_broken_seq == 2


def test_truncation_behind_a_checkpoint_is_detected(case_db_url: str) -> None:
    store = filled(case_db_url)
    point = store.audit.checkpoint()
    assert point.entries == 6
    store.audit.append("rina", "decision", "case-9", {"decision": "APPROVE"})
    assert store.audit.verify(point).ok  # twin: growing past the checkpoint is fine
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 5"))
    assert store.audit.verify().ok  # the shorter chain is intact on its own...
    check = store.audit.verify(point)
    assert not check.ok and "truncated" in check.problem  # ...but not what was checkpointed


def test_rewriting_behind_a_checkpoint_is_detected_even_with_the_key(tmp_path: Path) -> None:
    ring = generate_ring()
    store = filled(f"sqlite:///{tmp_path / 'c.sqlite3'}", ring=ring)
    point = store.audit.checkpoint()
    # An insider holding the key file alters entry 2 and re-MACs every entry after it.
    key = chain_keys(ring)[ring.active_id]
    rewrite(store, 2, lambda f, prev: hmac.new(
        key, "\x1f".join(map(str, (*f, prev))).encode(), hashlib.sha256).hexdigest())
    assert store.audit.verify().ok  # the chain alone is fooled...
    check = store.audit.verify(point)
    assert not check.ok and "rewritten" in check.problem  # ...the checkpoint is not


def test_forged_checkpoint_is_refused(tmp_path: Path) -> None:
    store = filled(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    point = store.audit.checkpoint()
    forged = Checkpoint(3, point.content_digest, point.at, point.key_id, point.mac)
    check = store.audit.verify(forged)
    assert not check.ok and "not authentic" in check.problem
    with pytest.raises(ValueError, match="not an audit checkpoint"):
        Checkpoint.from_dict({"entries": 3})


def test_rotation_carries_the_chain_and_retire_waits_for_its_entries(tmp_path: Path,
                                                                      capsys) -> None:
    db, key_file = tmp_path / "c.sqlite3", tmp_path / "evidence.key"
    write_key_file(key_file, generate_ring())
    config = tmp_path / "verifier.toml"
    config.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    running = filled(f"sqlite:///{db}", 3, ring=load_key_file(key_file))
    cli = ["--config", str(config)]
    assert verifier_main([*cli, "audit", "checkpoint", "--db", str(db),
                          "--out", str(tmp_path / "cp.json")]) == 0
    assert verifier_main([*cli, "keys", "rotate", "--db", str(db)]) == 0
    assert verifier_main([*cli, "audit", "verify", "--db", str(db),
                          "--checkpoint", str(tmp_path / "cp.json")]) == 0
    # A process still on the old key file keeps MACing with the old key.
    running.audit.append("rina", "view_evidence", "case-1", {"sequence": 1})
    past_the_reload_window(key_file)
    capsys.readouterr()
    assert verifier_main([*cli, "keys", "retire", "--db", str(db)]) == 2
    assert "(1 values)" in capsys.readouterr().err
    assert verifier_main([*cli, "keys", "reencrypt", "--db", str(db)]) == 0
    assert verifier_main([*cli, "keys", "retire", "--db", str(db)]) == 0
    assert verifier_main([*cli, "audit", "verify", "--db", str(db)]) == 0
    # A checkpoint MACed with a retired key can no longer be authenticated: make a new one.
    capsys.readouterr()
    assert verifier_main([*cli, "audit", "verify", "--db", str(db),
                          "--checkpoint", str(tmp_path / "cp.json")]) == 1
    assert "not authentic" in capsys.readouterr().err
    assert json.loads((tmp_path / "cp.json").read_text())["entries"] == 3


def test_a_decision_and_its_audit_entry_commit_together(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier.cases import audit as audit_module
    from verifier.consistency.verdict import decide

    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}", generate_ring())
    case, _ = store.start_session("s1", 1, "loket-1", "petugas-1", {"full_name": "SITI"})
    store.finish(case.case_id, 2, decide(case.case_id, []))

    def failing_mac(*args: object) -> str:
        raise RuntimeError("disk full while writing the audit entry")

    with monkeypatch.context() as m:
        m.setattr(audit_module, "_mac", failing_mac)
        with pytest.raises(RuntimeError, match="disk full"):
            store.record_review(case.case_id, "rina", "APPROVE", "documents agree")
    assert store.summary(case.case_id).review_decision is None  # no decision without entry
    assert store.reviews(case.case_id) == [] and store.audit.count() == 0
    store.record_review(case.case_id, "rina", "APPROVE", "documents agree")  # twin
    assert store.summary(case.case_id).review_decision == "APPROVE"
    assert [e.action for e in store.audit.entries()] == ["decision"]


def test_a_log_from_before_the_keyed_chain_is_accepted_once_and_reported_so(
        tmp_path: Path, capsys) -> None:
    db = tmp_path / "c.sqlite3"
    store = filled(f"sqlite:///{db}", 6)
    rewrite(store, 1, lambda f, prev: entry_hash(*f, prev))  # as the plain chain wrote it
    store.audit.append("rina", "view_evidence", "case-1", {"sequence": 1})  # upgraded server
    check = store.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 1)
    assert "entries 1-6 have plain SHA-256 links" in check.problem
    assert "--accept-unauthenticated-through 6" in check.problem
    with pytest.raises(ValueError, match="are 1-6, not 1-5"):
        store.audit.rechain(5)  # the operator must name exactly what they accept

    entry = store.audit.rechain(6)
    assert (entry.seq, entry.detail["unauthenticated_through"]) == (8, 6)
    check = store.audit.verify()
    assert check.ok and check.unauthenticated_through == 6
    with pytest.raises(ValueError, match="no plain SHA-256 entries"):
        store.audit.rechain(6)
    # From now on the accepted entries are MACed: altering one is detected like any other.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'budi' WHERE seq = 2"))
    assert store.audit.verify().first_broken_seq == 2


def test_plain_entries_after_keyed_ones_are_not_a_legacy_prefix(case_db_url: str) -> None:
    store = filled(case_db_url, 4)
    with store.engine.begin() as conn:  # someone appends a plain-linked entry at the end
        head = conn.execute(text("SELECT entry_hash FROM audit_log WHERE seq = 4")).scalar_one()
        fields = (5, "2026-01-01T00:00:00+00:00", "budi", "decision", "case-1",
                  '{"decision":"APPROVE"}')
        conn.execute(text("INSERT INTO audit_log VALUES (:s, :a, :o, :c, :i, :d, :p, :h)"),
                     dict(zip("saocid", fields), p=head, h=entry_hash(*fields, head)))
    check = store.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 5)
    assert "MAC under any evidence key" in check.problem
    with pytest.raises(ValueError, match="broken at entry 5"):
        store.audit.rechain(4)


def test_audit_rechain_cli(tmp_path: Path, capsys) -> None:
    db, key_file = tmp_path / "c.sqlite3", tmp_path / "evidence.key"
    write_key_file(key_file, generate_ring())
    config = tmp_path / "verifier.toml"
    config.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    store = filled(f"sqlite:///{db}", 3, ring=load_key_file(key_file))
    rewrite(store, 1, lambda f, prev: entry_hash(*f, prev))
    cli = ["--config", str(config), "audit"]
    assert verifier_main([*cli, "verify", "--db", str(db)]) == 1
    assert "--accept-unauthenticated-through 3" in capsys.readouterr().err
    assert verifier_main([*cli, "rechain", "--db", str(db),
                          "--accept-unauthenticated-through", "2"]) == 2
    assert "are 1-3, not 1-2" in capsys.readouterr().err
    assert verifier_main([*cli, "rechain", "--db", str(db),
                          "--accept-unauthenticated-through", "3"]) == 0
    assert verifier_main([*cli, "verify", "--db", str(db)]) == 0
    assert "entries 1-3 predate the keyed chain: they were accepted unauthenticated" \
        in capsys.readouterr().err


def test_a_log_rewritten_plain_from_its_first_entry_fails_and_a_checkpoint_says_why(
        case_db_url: str) -> None:
    store = filled(case_db_url)
    point = store.audit.checkpoint()
    rewrite(store, 1, lambda f, prev: entry_hash(*f, prev))  # looks like a pre-HMAC log
    check = store.audit.verify()
    assert not check.ok and "or was rewritten from its first entry" in check.problem
    check = store.audit.verify(point)
    assert not check.ok and "differ from those the checkpoint" in check.problem


def test_rekeying_while_entries_are_appended_keeps_every_link(case_db_url: str) -> None:
    store = filled(case_db_url, 3)
    appended: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def append() -> None:  # the review page, recording views during a rotation
        try:
            while not stop.is_set():
                appended.append(store.audit.append("rina", "view_evidence", "case-1").seq)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        for _ in range(6):
            while len(appended) < 3:
                time.sleep(0.01)
            appended.clear()
            store.keys = generate_ring(store.keys)  # as `keys rotate` does in its process
            assert store.audit.rekey() > 0
    finally:
        stop.set()
        writer.join()
    assert errors == []
    check = store.audit.verify()
    assert check.ok, check.problem
