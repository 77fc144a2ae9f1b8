"""Signing in (verifier.cases.sign_in) on a real SQLite store: scrypt runs for unknown names,
throttling per account and per client holds under parallel logins against a real waitress
server, old hash costs are upgraded, session tokens stay with their client; and the `users`
and `review` commands around it."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import update

from verifier.cases import accounts, sign_in
from verifier.cases.accounts import SCRYPT_N, check_password
from verifier.cases.crypto import generate_ring
from verifier.cases.schema import UserRow
from verifier.cases.sign_in import SignedIn, SignInPolicy, SignInRefused
from verifier.cases.store import CaseStore
from verifier.cli import main
from verifier.config import load_config
from lebong_contract.errors import PermissionDenied
from verifier.review.app import create_app

PASSWORD = "kata sandi petugas"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    s = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}", generate_ring())
    s.add_user("rina", PASSWORD, "reviewer")
    yield s
    s.close()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored hashes each password check ran scrypt against (the real check, counted)."""
    seen: list[str] = []

    def counted(password: str, stored: str) -> bool:
        seen.append(stored)
        return check_password(password, stored)

    monkeypatch.setattr(sign_in, "check_password", counted)
    return seen


def test_unknown_names_cost_a_scrypt_like_known_ones(store: CaseStore,
                                                     checks: list[str]) -> None:
    for name in ("nobody", "rina"):
        with pytest.raises(SignInRefused) as refused:
            store.sign_ins.sign_in(name, "wrong password!", "", ("reviewer",), "10.0.0.1")
        assert refused.value.reason == "BAD_CREDENTIALS"
    assert len(checks) == 2
    assert checks[0] == accounts.dummy_hash() and checks[1] != checks[0]
    assert all(h.split("$")[1] == str(SCRYPT_N) for h in checks)  # the same cost for both
    assert store.sign_ins.sign_in("rina", PASSWORD, "", ("reviewer",), "10.0.0.1") == \
        SignedIn("rina", "reviewer")


def test_twenty_parallel_logins_get_five_password_checks(case_db_url: str,
                                                         checks: list[str]) -> None:
    from waitress import create_server

    store = CaseStore(case_db_url, generate_ring())
    store.add_user("rina", PASSWORD, "reviewer")
    store.add_user("budi", PASSWORD, "reviewer")
    app = create_app(store, load_config(cases={"review_require_totp": False}))
    server = create_server(app, host="127.0.0.1", port=0, threads=20)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/login"

    def attempt(username: str, password: str) -> int:
        body = urllib.parse.urlencode({"username": username, "password": password}).encode()
        try:
            with urllib.request.urlopen(url, body, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    urllib.request.install_opener(urllib.request.build_opener(NoRedirect))
    try:
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda i: attempt("rina", f"guess number {i:02d}"),
                                  range(20)))
        assert sorted(codes) == [401] * 5 + [429] * 15
        assert len(checks) == 5
        assert attempt("rina", PASSWORD) == 429  # the account waits, even for the owner
        assert attempt("budi", PASSWORD) == 302  # the twin: another account from there
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]
        server.close()
        store.close()
    assert len(checks) == 6


def test_throttle_per_client_address(store: CaseStore, checks: list[str]) -> None:
    policy = SignInPolicy(failures_per_account=5, failures_per_client=3)
    for i in range(3):  # a different (unknown) name each time: no account limit reached
        with pytest.raises(SignInRefused, match="wrong user name"):
            store.sign_ins.sign_in(f"guess-{i}", PASSWORD, "", ("reviewer",), "10.0.0.66",
                                   policy=policy)
    with pytest.raises(SignInRefused) as refused:
        store.sign_ins.sign_in("rina", PASSWORD, "", ("reviewer",), "10.0.0.66",
                               policy=policy)
    assert refused.value.reason == "THROTTLED" and len(checks) == 3
    # The twin: the same account from another address signs in.
    assert store.sign_ins.sign_in("rina", PASSWORD, "", ("reviewer",), "10.0.0.7",
                                  policy=policy).username == "rina"


def test_role_disabled_and_officer(store: CaseStore) -> None:
    store.add_user("oki", PASSWORD, "officer")
    with pytest.raises(SignInRefused) as refused:
        store.sign_ins.sign_in("oki", PASSWORD, "", ("reviewer", "auditor"), "a")
    assert refused.value.reason == "ROLE_NOT_ALLOWED"
    assert store.sign_ins.sign_in("oki", PASSWORD, "", ("officer",), "a").role == "officer"
    store.set_user_disabled("oki", True)
    with pytest.raises(SignInRefused) as refused:
        store.sign_ins.sign_in("oki", PASSWORD, "", ("officer",), "a")
    assert refused.value.reason == "ACCOUNT_DISABLED"


def test_a_cheaper_old_hash_verifies_and_is_upgraded(store: CaseStore) -> None:
    old_n = 2 ** 14
    monkey = pytest.MonkeyPatch()
    monkey.setattr(accounts, "SCRYPT_N", old_n)
    old_hash = accounts.hash_password(PASSWORD)
    monkey.undo()
    with store.engine.begin() as conn:
        conn.execute(update(UserRow).where(UserRow.username == "rina")
                     .values(password_hash=old_hash))
    with pytest.raises(SignInRefused):  # a wrong password does not upgrade anything
        store.sign_ins.sign_in("rina", "wrong password!", "", ("reviewer",), "a")
    assert store.sign_ins.sign_in("rina", PASSWORD, "", ("reviewer",), "a").username == "rina"
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT password_hash FROM users WHERE username = 'rina'").scalar_one()
    assert stored != old_hash and stored.split("$")[1] == str(SCRYPT_N)
    assert check_password(PASSWORD, stored)


def test_session_tokens_stay_with_their_client(store: CaseStore) -> None:
    user = store.sign_ins.sign_in("rina", PASSWORD, "", ("reviewer",), "station-a")
    token = store.sign_ins.open_session(user, "officer", "station-a", timedelta(minutes=5),
                                        timedelta(hours=1))
    assert store.sign_ins.session_user(token, "officer", "station-a") == user
    with pytest.raises(PermissionDenied):
        store.sign_ins.session_user(token, "officer", "station-b")
    assert store.sign_ins.session_user(token, "review") is None  # another purpose
    assert store.sign_ins.session_user(token + "x", "officer") is None
    idle = store.sign_ins.open_session(user, "officer", "station-a", timedelta(0),
                                       timedelta(hours=1))
    assert store.sign_ins.session_user(idle, "officer") is None  # idle too long
    store.sign_ins.close_session(token)
    assert store.sign_ins.session_user(token, "officer", "station-a") is None


def test_users_command_adds_officers_enrols_totp_and_disables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.sqlite3")
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "oki", "--role", "officer", "--password-stdin",
                 "--db", db]) == 0
    assert main(["users", "totp", "oki", "--db", db]) == 0
    uri = capsys.readouterr().out.strip()
    assert uri.startswith("otpauth://totp/verifier:oki?")
    assert main(["users", "totp", "nobody", "--db", db]) == 2
    assert "no user nobody" in capsys.readouterr().err
    assert main(["users", "disable", "oki", "--db", db]) == 0
    store = CaseStore(f"sqlite:///{db}")
    try:
        code = pyotp.parse_uri(uri).now()
        with pytest.raises(SignInRefused, match="disabled"):
            store.sign_ins.sign_in("oki", PASSWORD, code, ("officer",), "a")
        store.set_user_disabled("oki", False)
        assert store.sign_ins.sign_in("oki", PASSWORD, code, ("officer",), "a").role == \
            "officer"
    finally:
        store.close()


def test_review_refuses_plain_http_off_loopback(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--listen", "0.0.0.0:0", "--db", str(tmp_path / "c.db")]) == 2
    assert "refusing to serve plain HTTP on 0.0.0.0" in capsys.readouterr().err


def test_review_behind_a_proxy_serves_https_only(tmp_path: Path) -> None:
    """`verifier review` on waitress, trusting X-Forwarded-Proto from the proxy's address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier.cli", "review", "--listen", "127.0.0.1:0",
         "--behind-proxy", "127.0.0.1", "--db", str(tmp_path / "c.db")],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while line and "review page on" not in line:  # after the store's start-up logs
            line = proc.stderr.readline()
        assert "review page on https (through the proxy)" in line, line
        url = f"http://{line.split()[-1].rstrip('/')}/login"

        def get(headers: dict[str, str]) -> tuple[int, dict[str, str]]:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                            timeout=30) as r:
                    return r.status, dict(r.headers)
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers)

        status, headers = get({"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"})
        assert status == 200 and headers["Strict-Transport-Security"] == "max-age=31536000"
        assert get({})[0] == 403  # plain HTTP straight to the port
        assert headers["Server"] == "verifier"
    finally:
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(30)
    assert returncode == 0  # SIGTERM stops it cleanly
