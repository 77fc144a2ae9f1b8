"""The hash-chained audit log and the operator commands (`verifier audit|users|keys|retention`),
on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
import secrets
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.authenticator import role_of
from verifier.cases.crypto import load_key_file
from verifier.cases.store import CaseStore, keys_for
from verifier.cli import main

from tests.test_keys import past_the_reload_window


def config_file(tmp_path: Path, key_file: Path | None = None) -> Path:
    path = tmp_path / "verifier.toml"
    if key_file is None:
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        path.write_text(f'[cases]\nkeys = ["k1:{key}"]\n')
    else:
        path.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    return path


def store_for(url: str, config: Path) -> CaseStore:
    from verifier.config import load_config

    cases = load_config(config).cases
    return CaseStore(url, keys_for(url, cases.key_file, cases.keys))


def cli(*args: str, stdin: str = "") -> tuple[int, str]:
    """Run `verifier ARGS` in this process; returns (exit status, stderr)."""
    old_in, old_err = sys.stdin, sys.stderr
    sys.stdin, sys.stderr = io.StringIO(stdin), io.StringIO()
    try:
        code = main(list(args))
        return code, sys.stderr.getvalue()
    finally:
        sys.stdin, sys.stderr = old_in, old_err


def test_audit_chain_detects_one_flipped_byte(case_db_url: str, tmp_path: Path) -> None:
    config = config_file(tmp_path)
    store = store_for(case_db_url, config)
    for i in range(5):
        store.audit.append(f"officer-{i}", "view_evidence", f"case-{i}", {"sequence": i})
    code, err = cli("--config", str(config), "audit", "verify", "--db", case_db_url,
                    "--json", str(tmp_path / "ok.json"))
    assert code == 0, err
    assert json.loads((tmp_path / "ok.json").read_text())["entries"] == 5
    with store.engine.begin() as conn:
        detail = conn.execute(text("SELECT detail_json FROM audit_log WHERE seq = 3")).scalar_one()
        flipped = detail.replace("2", "7")  # {"sequence":2} -> {"sequence":7}
        conn.execute(text("UPDATE audit_log SET detail_json = :d WHERE seq = 3"), {"d": flipped})
    code, err = cli("--config", str(config), "audit", "verify", "--db", case_db_url,
                    "--json", str(tmp_path / "broken.json"))
    assert code == 1
    assert "BROKEN at entry 3" in err
    report = json.loads((tmp_path / "broken.json").read_text())
    assert report["first_broken_seq"] == 3 and "altered" in report["problem"]


def test_audit_chain_detects_removed_and_relinked_entries(case_db_url: str,
                                                         tmp_path: Path) -> None:
    store = store_for(case_db_url, config_file(tmp_path))
    for i in range(4):
        store.audit.append("rina", "decision", f"case-{i}", {"decision": "APPROVE"})
    assert store.audit.verify().ok
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    check = store.audit.verify()
    assert (check.ok, check.first_broken_seq) == (False, 3)
    assert "removed" in check.problem
    # Renumbering to hide the gap breaks the link instead.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET seq = 2 WHERE seq = 3"))
    assert store.audit.verify().first_broken_seq == 2


def test_users_cli_creates_an_account_that_can_log_in(case_db_url: str, tmp_path: Path) -> None:
    config = config_file(tmp_path)
    code, err = cli("--config", str(config), "users", "add", "rina", "--role", "reviewer",
                    "--db", case_db_url, "--password-stdin", stdin="kata sandi rahasia\n")
    assert code == 0, err
    store = store_for(case_db_url, config)
    assert role_of(store, "rina", "kata sandi rahasia") == "reviewer"
    code, err = cli("--config", str(config), "users", "add", "rina", "--db", case_db_url,
                    "--password-stdin", stdin="another long password\n")
    assert code == 2 and "already exists" in err
    assert cli("--config", str(config), "users", "disable", "rina", "--db", case_db_url)[0] == 0
    assert role_of(store, "rina", "kata sandi rahasia") is None
    assert [e.action for e in store.audit.entries()] == [
        "sign_in_refused", "user_disabled", "sign_in", "user_added"]


def test_keys_cli_rotates_the_key_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    key_file = tmp_path / "evidence.keys"
    assert cli("keys", "init", "--key-file", str(key_file))[0] == 0
    assert cli("keys", "init", "--key-file", str(key_file))[0] == 2  # never overwritten
    config = config_file(tmp_path, key_file)
    store = store_for(url, config)
    case, _ = store.start_session("s", 1, "loket-1", "p", {"full_name": "SITI"})
    store.record_message(case.case_id, 2, "document", data=b"\x89PNG-image", keep_payload=True,
                         subtype="KTP", result={"fields": []})
    old_id = load_key_file(key_file).active_id
    code, err = cli("--config", str(config), "keys", "rotate", "--db", url,
                    "--json", str(tmp_path / "rot.json"))
    assert code == 0, err
    report = json.loads((tmp_path / "rot.json").read_text())
    assert report["reencrypted_values"] == 3 and report["kept_keys"] == [old_id]
    assert list(load_key_file(key_file).keys) == [old_id, report["active_key"]]
    # Old keys leave the file in a separate step (tests/test_keys.py has its refusals).
    past_the_reload_window(key_file)
    code, err = cli("--config", str(config), "keys", "retire", "--db", url)
    assert code == 0, err
    ring = load_key_file(key_file)
    assert list(ring.keys) == [report["active_key"]] != [old_id]
    assert store_for(url, config).payload(case.case_id, 2) == b"\x89PNG-image"


def test_retention_cli_dry_run_and_purge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    config = config_file(tmp_path)
    store = store_for(url, config)
    case, _ = store.start_session("s", 1, "loket-1", "p", {})
    store.record_message(case.case_id, 2, "document", data=b"image", keep_payload=True,
                         subtype="KTP", result={"fields": [], "record": {"t": "x"}})
    out = tmp_path / "r.json"
    assert cli("--config", str(config), "retention", "purge", "--db", url,
               "--older-than-days", "0", "--dry-run", "--json", str(out))[0] == 0
    assert json.loads(out.read_text())["cases"] == 1 and store.payload(case.case_id, 2)
    assert cli("--config", str(config), "retention", "purge", "--db", url,
               "--older-than-days", "0", "--json", str(out))[0] == 0
    assert json.loads(out.read_text())["payloads_removed"] == 1
    assert store.payload(case.case_id, 2) is None


@pytest.mark.parametrize("command", ["users", "audit", "retention", "keys"])
def test_help_documents_every_action(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "ACTION" in capsys.readouterr().out
