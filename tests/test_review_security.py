"""The review page's defences, through Flask's test client on a real SQLite store: on-site
redirects only, cookie flags, server-side sessions that logout and disabling end at once,
the TOTP second factor, and four eyes on decisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.authenticator import Authenticator
from tests.test_review_page import KEYS, PASSWORD, flagged_case, login
from verifier.cases.store import CaseStore
from verifier.config import load_config
from lebong_contract.errors import PermissionDenied
from verifier.review.app import COOKIE, create_app, safe_next

NO_TOTP = load_config(cases={"review_require_totp": False})
HOSTILE_NEXT = ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
                "/\n/evil.example", "///evil.example", "\\/evil.example",
                "http:/evil.example", " /evil.example", "/ok//evil.example", "javascript:x"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    s = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}", KEYS)
    s.add_user("rina", PASSWORD, "reviewer")
    yield s
    s.close()


@pytest.fixture
def app(store: CaseStore) -> Flask:
    return create_app(store, NO_TOTP)


def test_next_never_leaves_the_site(app: Flask) -> None:
    client = app.test_client()
    for target in HOSTILE_NEXT:
        # As the browser sends it: the query string percent-encoded, decoded by the server.
        page = client.get("/login", query_string={"next": target})
        assert 'name="next" value=""' in page.text, target
        assert safe_next(target) is None, target
    for target in HOSTILE_NEXT[:4]:  # the four, through a real sign-in each
        response = client.post("/login", data={"username": "rina", "password": PASSWORD,
                                               "next": target})
        assert response.status_code == 302, target
        location = urlsplit(response.headers["Location"])
        assert (location.scheme, location.netloc, location.path) == ("", "", "/"), target


def test_next_raw_tab_in_the_query_string(app: Flask) -> None:
    page = app.test_client().get("/login?next=/%09/evil.example")
    assert page.status_code == 200 and 'name="next" value=""' in page.text


def test_next_keeps_a_path_on_the_site(app: Flask) -> None:
    assert safe_next("/case/abc?x=1") == "/case/abc?x=1"
    client = app.test_client()
    assert client.get("/case/abc").headers["Location"] == "/login?next=/case/abc"
    response = client.post("/login", data={"username": "rina", "password": PASSWORD,
                                           "next": "/case/abc"})
    assert response.headers["Location"] == "/case/abc"


def test_cookie_flags_and_hsts_over_tls_only(app: Flask) -> None:
    tls = app.test_client()
    response = tls.post("https://localhost/login",
                        data={"username": "rina", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = app.test_client().post("/login", data={"username": "rina", "password": PASSWORD})
    assert "HttpOnly" in plain.headers["Set-Cookie"]
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers


def test_tls_required_refuses_plain_http(store: CaseStore) -> None:
    app = create_app(store, NO_TOTP, require_tls=True)
    assert app.test_client().get("/login").status_code == 403
    assert app.test_client().get("https://localhost/login").status_code == 200


def test_disabling_an_account_ends_its_open_session(store: CaseStore, app: Flask) -> None:
    client = app.test_client()
    login(client, "rina")
    assert client.get("/").status_code == 200
    store.set_user_disabled("rina", True)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    store.set_user_disabled("rina", False)
    assert client.get("/").status_code == 302  # the session is gone, not just suspended


def test_logout_revokes_the_session_on_the_server(app: Flask) -> None:
    client = app.test_client()
    csrf = login(client, "rina")
    token = client.get_cookie(COOKIE).value
    replay = app.test_client()
    replay.set_cookie(COOKIE, token)
    assert replay.get("/").status_code == 200  # the same cookie elsewhere works while open
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.post("/logout", data={"csrf": csrf}).status_code == 302
    assert replay.get("/").status_code == 302  # the old cookie, replayed, is refused
    assert replay.post("/logout", data={"csrf": csrf}).status_code == 302  # to login only


def test_role_is_read_from_the_account_not_the_cookie(store: CaseStore, app: Flask) -> None:
    case_id = flagged_case(store, "s-role")
    client = app.test_client()
    csrf = login(client, "rina")
    form = {"decision": "APPROVE", "reason": "dokumen sesuai", "csrf": csrf}
    with store.engine.begin() as conn:  # an administrator demotes rina while she is in
        conn.exec_driver_sql("UPDATE users SET role = 'auditor' WHERE username = 'rina'")
    assert client.post(f"/case/{case_id}/decision", data=form).status_code == 403
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET role = 'reviewer' WHERE username = 'rina'")
    assert client.post(f"/case/{case_id}/decision", data=form).status_code == 302
    assert [r.reviewer for r in store.reviews(case_id)] == ["rina"]


def test_totp_is_required_checked_and_used_once(store: CaseStore) -> None:
    app = create_app(store, load_config())  # the default: reviewers need a second factor
    client = app.test_client()
    data = {"username": "rina", "password": PASSWORD}
    refused = client.post("/login", data=data)
    assert refused.status_code == 403 and b"needs a second factor" in refused.data
    authenticator = Authenticator(store, "rina")
    assert client.post("/login", data=data).status_code == 401  # enrolled: code needed
    assert client.post("/login", data=dict(data, totp="000000")).status_code == 401
    code = authenticator.code()
    accepted = client.post("/login", data=dict(data, totp=code))
    assert accepted.status_code == 302
    replayed = app.test_client().post("/login", data=dict(data, totp=code))
    assert replayed.status_code == 401 and b"already used" in replayed.data
    reasons = [e.detail.get("reason") for e in store.audit.entries()
               if e.action == "sign_in_refused"]
    assert sorted(reasons) == sorted(["TOTP_NOT_ENROLLED", "TOTP_REQUIRED", "TOTP_WRONG",
                                      "TOTP_REPLAYED"])


def test_four_eyes(store: CaseStore, app: Flask) -> None:
    case_id = flagged_case(store, "s-4eyes")  # operated by petugas-7
    store.add_user("petugas-7", PASSWORD, "reviewer")
    store.add_user("budi", PASSWORD, "reviewer")
    form = {"decision": "REJECT", "reason": "nama tidak sesuai"}

    operator = app.test_client()
    csrf = login(operator, "petugas-7")
    page = operator.get(f"/case/{case_id}").text
    assert "You operated this case" in page and "<fieldset disabled>" in page
    refused = operator.post(f"/case/{case_id}/decision", data=dict(form, csrf=csrf))
    assert refused.status_code == 403 and b"You operated this case" in refused.data

    rina = app.test_client()
    csrf = login(rina, "rina")
    page = rina.get(f"/case/{case_id}").text
    assert "Simpan keputusan" in page and "<fieldset disabled>" not in page
    assert rina.post(f"/case/{case_id}/decision", data=dict(form, csrf=csrf)).status_code == 302
    assert "You already decided this case" in rina.get(f"/case/{case_id}").text
    again = rina.post(f"/case/{case_id}/decision", data=dict(form, csrf=csrf, decision="APPROVE"))
    assert again.status_code == 403 and b"You already decided" in again.data

    with pytest.raises(PermissionDenied):  # the store checks too, in the transaction
        store.record_review(case_id, "rina", "APPROVE", "dokumen sesuai")
    with pytest.raises(PermissionDenied):
        store.record_review(case_id, "petugas-7", "APPROVE", "dokumen sesuai")

    budi = app.test_client()  # the twin: another reviewer may decide after rina, and may
    csrf = login(budi, "budi")  # decide after asking for documents
    for decision in ("REQUEST_DOCUMENTS", "APPROVE"):
        assert budi.post(f"/case/{case_id}/decision",
                         data=dict(form, csrf=csrf, decision=decision)).status_code == 302
    assert [(r.reviewer, r.decision) for r in store.reviews(case_id)] == [
        ("rina", "REJECT"), ("budi", "REQUEST_DOCUMENTS"), ("budi", "APPROVE")]
