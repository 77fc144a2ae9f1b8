"""The review web application (Flask, server-rendered, no script and no external resource).

Officers sign in with accounts made by `verifier users add` (reviewers and auditors need a
TOTP second factor unless `[cases] review_require_totp = false`), through
verifier.cases.sign_in: throttled per account and per client address in the database,
constant time for unknown names. The login is a server-side session (a random token in an
HttpOnly, SameSite=Strict cookie, Secure over TLS): logging out or disabling the account
ends it at once, and the role is read from the account on every request.

Every case page and every evidence image served is appended to the audit log with who and
when; every decision too (in the same transaction as the decision). Four eyes: nobody decides
a case they operated or already approved or rejected. Pages are sent with a strict Content-Security-Policy
and `no-store`, so evidence does not linger in browser caches on shared counter PCs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, redirect, render_template, request, url_for

from verifier.cases.sign_in import SignedIn, SignInPolicy, SignInRefused
from verifier.cases.store import FINAL_DECISIONS, REVIEW_DECISIONS, CaseStore, QueueFilter
from verifier.config import Config
from lebong_contract.errors import ImageRejected, PermissionDenied, SessionStateError
from verifier.imaging import decode_image, encode_jpeg
from verifier.review.case_view import case_view

log = logging.getLogger(__name__)

DECISION_LABELS = {"APPROVE": "Setujui / Approve", "REJECT": "Tolak / Reject",
                   "REQUEST_DOCUMENTS": "Minta dokumen / Ask for documents"}
MAX_REASON_CHARS = 2000
COOKIE = "review_session"
SESSION_PURPOSE = "review"
REVIEW_ROLES = ("reviewer", "auditor")

_CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
_REFUSALS = {  # SignInRefused.reason -> (status, what the person signing in is told)
    "THROTTLED": (429, "Terlalu banyak percobaan gagal; coba lagi nanti / "
                       "Too many failed attempts; try again later"),
    "TOTP_REQUIRED": (401, "Masukkan kode autentikator / Enter the authenticator code"),
    "TOTP_WRONG": (401, "Kode autentikator salah / Wrong authenticator code"),
    "TOTP_REPLAYED": (401, "Kode autentikator sudah dipakai; tunggu kode berikutnya / "
                           "Authenticator code already used; wait for the next one"),
    "TOTP_NOT_ENROLLED": (403, "Akun ini perlu faktor kedua; minta admin menjalankan "
                               "`verifier users totp` / This account needs a second factor: "
                               "ask the administrator to run `verifier users totp`"),
}
_WRONG = (401, "Nama pengguna atau kata sandi salah / Wrong username or password")


def safe_next(target: str) -> str | None:
    """`target` when it is a path on this site, else None. Strict on purpose (an open
    redirect helps phishing): one leading "/", no "//" anywhere, no backslash (browsers read
    it as "/"), only printable ASCII without spaces (browsers drop tabs and newlines, which
    would turn "/\\t/evil" into "//evil")."""
    if (not target.startswith("/") or "//" in target or "\\" in target
            or any(not 0x21 <= ord(c) <= 0x7e for c in target)):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _csrf(token: str) -> str:
    # Derived from the session token (a one-way hash): nothing more to store, and the page
    # that shows it does not reveal the token.
    return hashlib.sha256(b"csrf\0" + token.encode()).hexdigest()


def refusal(store: CaseStore, case_id: str, username: str) -> str:
    """Why `username` may not decide the case (four eyes), or "" when they may."""
    if store.summary(case_id).officer_id == username:
        return ("Anda petugas yang melayani kasus ini / You operated this case: "
                "another reviewer must decide it")
    if any(r.reviewer == username and r.decision in FINAL_DECISIONS
           for r in store.reviews(case_id)):
        return ("Anda sudah memutuskan kasus ini / You already decided this case: "
                "another reviewer must decide again")
    return ""


def create_app(store: CaseStore, config: Config, *, require_tls: bool = False) -> Flask:
    """`require_tls`: refuse requests that did not come over HTTPS (behind a TLS proxy the
    WSGI server sets the scheme from X-Forwarded-Proto)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    cases = config.cases
    idle = timedelta(minutes=cases.review_session_minutes)
    lifetime = timedelta(hours=cases.review_session_max_hours)
    policy = SignInPolicy.from_config(cases)

    def current() -> SignedIn | None:
        return g.get("user")

    def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current() is None:
                return redirect(url_for("login", next=request.path))
            return view(*args, **kwargs)
        return wrapped

    def check_csrf() -> None:
        token = request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(_csrf(token), request.form.get("csrf", "")):
            abort(400, "form expired; reload the page")

    @app.before_request
    def _who() -> Any:
        if require_tls and not request.is_secure:
            return Response("HTTPS required\n", status=403, mimetype="text/plain")
        # Read on every request (the stylesheet aside): a closed session or a disabled account
        # ends here, and the role is the account's role now.
        if not request.path.startswith("/static/"):
            g.user = store.sign_ins.session_user(request.cookies.get(COOKIE, ""),
                                                 SESSION_PURPOSE)
        return None

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = current()
        token = request.cookies.get(COOKIE, "")
        return {"user": user.username if user else None, "role": user.role if user else None,
                "csrf": _csrf(token) if user else ""}

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def set_cookie(response: Response, token: str, max_age: int | None) -> None:
        response.set_cookie(COOKIE, token, max_age=max_age, path="/", httponly=True,
                            secure=request.is_secure, samesite="Strict")

    @app.get("/login")
    def login() -> str:
        return render_template("login.html", next=safe_next(request.args.get("next", "")) or "")

    @app.post("/login")
    def login_post() -> Any:
        form = request.form
        target = safe_next(form.get("next", ""))
        try:
            user = store.sign_ins.sign_in(
                form.get("username", "")[:64], form.get("password", "")[:1024],
                form.get("totp", "")[:16], REVIEW_ROLES, request.remote_addr or "-",
                require_totp=cases.review_require_totp, policy=policy)
        except SignInRefused as refused:
            status, message = _REFUSALS.get(refused.reason, _WRONG)
            return render_template("login.html", next=target or "", message=message), status
        old = request.cookies.get(COOKIE, "")
        if old:
            store.sign_ins.close_session(old)
        token = store.sign_ins.open_session(user, SESSION_PURPOSE, request.remote_addr or "-",
                                            idle, lifetime)
        response = redirect(target or url_for("queue"))
        set_cookie(response, token, int(lifetime.total_seconds()))
        return response

    @app.post("/logout")
    @login_required
    def logout() -> Any:
        check_csrf()
        store.sign_ins.close_session(request.cookies.get(COOKIE, ""))
        store.audit.append(str(current().username), "logout")  # type: ignore[union-attr]
        response = redirect(url_for("login"))
        set_cookie(response, "", 0)
        return response

    @app.get("/")
    @login_required
    def queue() -> str:
        a = request.args
        where = QueueFilter(since=_parse_date(a.get("since")), until=_parse_date(a.get("until")),
                            rule=a.get("rule", "").strip(), station_id=a.get("station", "").strip(),
                            officer_id=a.get("officer", "").strip(),
                            include_decided=a.get("all") == "1")
        recorded = DECISION_LABELS.get(a.get("recorded", ""))
        message = f"Keputusan dicatat / Decision recorded: {recorded}" if recorded else ""
        return render_template("queue.html", cases=store.queue(where), where=where,
                               message=message)

    def case_page(case_id: str, message: str = "") -> str:
        user = current()
        assert user is not None
        try:
            view = case_view(store, case_id)
        except SessionStateError:
            abort(404)
        store.audit.append(user.username, "view_case", case_id)
        return render_template("case.html", v=view, decisions=DECISION_LABELS,
                               blocked=refusal(store, case_id, user.username), message=message)

    @app.get("/case/<case_id>")
    @login_required
    def case(case_id: str) -> str:
        return case_page(case_id)

    @app.get("/case/<case_id>/image/<int:sequence>")
    @login_required
    def image(case_id: str, sequence: int) -> Response:
        data = store.payload(case_id, sequence)
        if data is None:
            abort(404)
        store.audit.append(current().username, "view_evidence", case_id,  # type: ignore[union-attr]
                           {"sequence": sequence})
        try:
            # Through the decode gate and re-encoded: the browser only ever gets a plain JPEG
            # (TIFF scans display, and no stored file is served as it came).
            decoded = decode_image(data, config.imaging)
        except ImageRejected:
            abort(415)
        return Response(encode_jpeg(decoded.rgb), mimetype="image/jpeg")

    @app.post("/case/<case_id>/decision")
    @login_required
    def decide(case_id: str) -> Any:
        check_csrf()
        user = current()
        assert user is not None
        if user.role != "reviewer":
            abort(403)
        try:
            blocked = refusal(store, case_id, user.username)
        except SessionStateError:
            abort(404)
        if blocked:
            abort(403, blocked)
        decision = request.form.get("decision", "")
        reason = request.form.get("reason", "").strip()[:MAX_REASON_CHARS]
        if decision not in REVIEW_DECISIONS or not reason:
            return case_page(case_id, "Pilih keputusan dan tulis alasannya / Choose a decision "
                             "and write the reason"), 400
        try:
            store.record_review(case_id, user.username, decision, reason)
        except PermissionDenied as exc:  # four eyes, lost a race with the check above
            abort(403, exc.message)
        except SessionStateError as exc:
            abort(409, exc.message)
        return redirect(url_for("queue", recorded=decision))

    return app
