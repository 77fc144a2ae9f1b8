"""Evidence keys that cannot be lost: a store refuses keys that do not open its data, key files
must be private, rotation keeps old keys, and a key still sealing anything is never retired."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.authenticator import Authenticator
from verifier.cases.crypto import (EvidenceKeyError, KeyRing, generate_ring, load_key_file,
                                   write_key_file)
from verifier.cases.key_usage import key_ids_in_use
from verifier.cases.store import CaseStore
from verifier.cli import main as verifier_main

PHOTO = b"\xff\xd8 not really a JPEG, but sealed all the same"


def add_case(store: CaseStore, sid: str) -> str:
    case, _ = store.start_session(sid, 1, "loket-1", "petugas-1", {"full_name": "SITI AMINAH"})
    store.record_message(case.case_id, 2, "document", data=PHOTO, keep_payload=True,
                         subtype="KTP", result={"fields": []})
    return case.case_id


def test_missing_key_file_of_a_database_with_cases_refuses_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    key_file = tmp_path / "c.sqlite3.key"
    case_id = add_case(CaseStore(url), "s1")  # a new database creates its key file
    assert key_file.exists()
    backup = tmp_path / "backup.key"
    shutil.copy2(key_file, backup)
    key_file.unlink()
    with pytest.raises(EvidenceKeyError, match="missing .* holds sealed cases: restore"):
        CaseStore(url)
    assert not key_file.exists()  # no new key was made in its place
    shutil.copy2(backup, key_file)
    assert CaseStore(url).payload(case_id, 2) == PHOTO  # twin: the restored key opens it


def test_store_refuses_a_key_ring_that_does_not_open_its_data(case_db_url: str) -> None:
    ring = generate_ring()
    store = CaseStore(case_db_url, ring)
    case_id = add_case(store, "s1")
    assert key_ids_in_use(store.engine) == {ring.active_id: 3}  # application, photo, result
    with pytest.raises(EvidenceKeyError, match="not in the key ring"):
        CaseStore(case_db_url, generate_ring())
    impostor = KeyRing({ring.active_id: os.urandom(32)}, ring.active_id)  # same id, other key
    with pytest.raises(EvidenceKeyError, match="does not open"):
        CaseStore(case_db_url, impostor)
    assert CaseStore(case_db_url, ring).payload(case_id, 2) == PHOTO


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_key_file_readable_or_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "evidence.key"
    write_key_file(key_file, generate_ring())
    assert load_key_file(key_file).active_id  # 0600 as written: accepted
    key_file.chmod(mode)
    with pytest.raises(EvidenceKeyError, match=f"mode {mode:04o}.*chmod 600"):
        load_key_file(key_file)
    key_file.chmod(0o400)  # owner read-only is fine too
    assert load_key_file(key_file).active_id


def keys_cli(*args: str) -> int:
    return verifier_main(["keys", *args])


def past_the_reload_window(key_file: Path) -> None:
    """Date the key file's last change back an hour, as if [cases].key_retire_wait_seconds
    had passed since the rotation."""
    then = time.time() - 3600
    os.utime(key_file, (then, then))


def test_a_process_on_fixed_keys_blocks_retiring_until_reencrypted(tmp_path: Path,
                                                                    capsys) -> None:
    """A process whose ring does not follow the key file (keys read once, as inline
    [cases].keys are) keeps sealing with the old key; retiring it is refused until every such
    value is re-encrypted (tests/test_keys_rotation.py has the processes that follow it)."""
    db, key_file = tmp_path / "c.sqlite3", tmp_path / "evidence.key"
    url = f"sqlite:///{db}"
    write_key_file(key_file, generate_ring())
    old_id = load_key_file(key_file).active_id
    running = CaseStore(url, load_key_file(key_file))  # keys read once, before rotation
    before = add_case(running, "before")

    assert keys_cli("rotate", "--db", str(db), "--key-file", str(key_file)) == 0
    ring = load_key_file(key_file)
    assert set(ring.keys) == {old_id, ring.active_id} and ring.active_id != old_id
    assert key_ids_in_use(running.engine) == {ring.active_id: 3}  # application, photo, result

    during = add_case(running, "during")  # still sealing with the old key
    assert key_ids_in_use(running.engine)[old_id] == 3
    past_the_reload_window(key_file)
    capsys.readouterr()
    assert keys_cli("retire", "--db", str(db), "--key-file", str(key_file)) == 2
    assert f"{old_id} (3 values)" in capsys.readouterr().err
    assert set(load_key_file(key_file).keys) == {old_id, ring.active_id}  # nothing retired

    # What it sealed meanwhile is re-encrypted (the process restarted on the new keys).
    config = tmp_path / "verifier.toml"
    config.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    assert verifier_main(["--config", str(config), "keys", "reencrypt", "--db", str(db)]) == 0
    assert keys_cli("retire", "--db", str(db), "--key-file", str(key_file)) == 0
    final = load_key_file(key_file)
    assert set(final.keys) == {ring.active_id}
    reopened = CaseStore(url, final)
    assert reopened.payload(before, 2) == PHOTO and reopened.payload(during, 2) == PHOTO


def test_retire_refuses_unknown_and_active_keys(tmp_path: Path, capsys) -> None:
    db, key_file = tmp_path / "c.sqlite3", tmp_path / "evidence.key"
    write_key_file(key_file, generate_ring())
    active = load_key_file(key_file).active_id
    add_case(CaseStore(f"sqlite:///{db}", load_key_file(key_file)), "s1")
    past_the_reload_window(key_file)
    assert keys_cli("retire", "nope", "--db", str(db), "--key-file", str(key_file)) == 2
    assert "has no key nope" in capsys.readouterr().err
    assert keys_cli("retire", active, "--db", str(db), "--key-file", str(key_file)) == 2
    assert "still sealing evidence" in capsys.readouterr().err
    assert load_key_file(key_file).active_id == active


def test_totp_secrets_move_to_the_new_key_and_still_sign_in(tmp_path: Path) -> None:
    """A sealed TOTP secret is evidence-key data like any other: re-encrypted, it no longer
    holds the old key, retiring it succeeds and the account still signs in with its app."""
    db, key_file = tmp_path / "c.sqlite3", tmp_path / "evidence.key"
    url = f"sqlite:///{db}"
    write_key_file(key_file, generate_ring())
    old_id = load_key_file(key_file).active_id
    store = CaseStore(url, load_key_file(key_file))
    store.add_user("siti", "a long enough password", "reviewer")
    app = Authenticator(store, "siti")
    store.close()
    assert keys_cli("rotate", "--db", str(db), "--key-file", str(key_file)) == 0
    config = tmp_path / "verifier.toml"
    config.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    assert verifier_main(["--config", str(config), "keys", "reencrypt", "--db", str(db)]) == 0
    store = CaseStore(url, load_key_file(key_file))
    assert old_id not in key_ids_in_use(store.engine)
    store.close()
    past_the_reload_window(key_file)
    assert keys_cli("retire", "--db", str(db), "--key-file", str(key_file)) == 0
    store = CaseStore(url, load_key_file(key_file))
    signed_in = store.sign_ins.sign_in("siti", "a long enough password", app.code(),
                                       ("reviewer",), "127.0.0.1", require_totp=True)
    assert signed_in.username == "siti"
    with pytest.raises(Exception, match="TOTP|code"):  # the twin: a wrong code still fails
        store.sign_ins.sign_in("siti", "a long enough password", "000000", ("reviewer",),
                               "127.0.0.1", require_totp=True)
