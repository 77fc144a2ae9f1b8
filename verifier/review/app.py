"""The review web application (Flask, server-rendered, no script and no external resource).

Officers log in with accounts made by `verifier users add`. Every case page and every
evidence image served is appended to the audit log with who and when; every decision too
(in the same transaction as the decision). Pages are sent with a strict Content-Security-
Policy and `no-store`, so evidence does not linger in browser caches on shared counter PCs.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any

from flask import (Flask, Response, abort, flash, redirect, render_template, request, session,
                   url_for)

from verifier.cases.store import REVIEW_DECISIONS, CaseStore, QueueFilter
from verifier.config import Config
from verifier.errors import ImageRejected, SessionStateError
from verifier.imaging import decode_image, encode_jpeg
from verifier.review.case_view import case_view

log = logging.getLogger(__name__)

DECISION_LABELS = {"APPROVE": "Setujui / Approve", "REJECT": "Tolak / Reject",
                   "REQUEST_DOCUMENTS": "Minta dokumen / Ask for documents"}
MAX_REASON_CHARS = 2000
LOGIN_ATTEMPTS = 5  # failures per username before a pause
LOGIN_PAUSE_S = 300.0

_CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")


class _LoginThrottle:
    """Slows password guessing: after LOGIN_ATTEMPTS failures a username waits."""

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < LOGIN_PAUSE_S]
            self._failures[username] = recent
            return len(recent) >= LOGIN_ATTEMPTS

    def failed(self, username: str) -> None:
        with self._lock:
            self._failures.setdefault(username, []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def create_app(store: CaseStore, config: Config) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # a restart logs everyone out
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.cases.review_session_minutes),
        MAX_CONTENT_LENGTH=64 * 1024)
    throttle = _LoginThrottle()

    def user() -> str | None:
        return session.get("user")

    def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if user() is None:
                return redirect(url_for("login", next=request.path))
            session.permanent = True  # each request restarts the idle timer
            return view(*args, **kwargs)
        return wrapped

    def check_csrf() -> None:
        token = session.get("csrf", "")
        if not token or not hmac.compare_digest(token, request.form.get("csrf", "")):
            abort(400, "form expired; reload the page")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"user": user(), "role": session.get("role"), "csrf": session.get("csrf", "")}

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/login")
    def login() -> str:
        return render_template("login.html", next=request.args.get("next", ""))

    @app.post("/login")
    def login_post() -> Any:
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:1024]
        if throttle.blocked(username):
            flash("Terlalu banyak percobaan; tunggu 5 menit / Too many attempts; wait 5 minutes")
            return render_template("login.html", next=""), 429
        role = store.authenticate(username, password)
        if role is None:
            throttle.failed(username)
            store.audit.append(username or "-", "login_failed")
            flash("Nama pengguna atau kata sandi salah / Wrong username or password")
            return render_template("login.html", next=""), 401
        throttle.succeeded(username)
        session.clear()
        session.update(user=username, role=role, csrf=secrets.token_urlsafe(32))
        session.permanent = True
        store.audit.append(username, "login")
        target = request.form.get("next", "")
        # Only paths on this site: an open redirect would help phishing.
        return redirect(target if target.startswith("/") and not target.startswith("//")
                        else url_for("queue"))

    @app.post("/logout")
    @login_required
    def logout() -> Any:
        check_csrf()
        store.audit.append(str(user()), "logout")
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    @login_required
    def queue() -> str:
        a = request.args
        where = QueueFilter(since=_parse_date(a.get("since")), until=_parse_date(a.get("until")),
                            rule=a.get("rule", "").strip(), station_id=a.get("station", "").strip(),
                            officer_id=a.get("officer", "").strip(),
                            include_decided=a.get("all") == "1")
        return render_template("queue.html", cases=store.queue(where), where=where)

    @app.get("/case/<case_id>")
    @login_required
    def case(case_id: str) -> str:
        try:
            view = case_view(store, case_id)
        except SessionStateError:
            abort(404)
        store.audit.append(str(user()), "view_case", case_id)
        return render_template("case.html", v=view, decisions=DECISION_LABELS)

    @app.get("/case/<case_id>/image/<int:sequence>")
    @login_required
    def image(case_id: str, sequence: int) -> Response:
        data = store.payload(case_id, sequence)
        if data is None:
            abort(404)
        store.audit.append(str(user()), "view_evidence", case_id, {"sequence": sequence})
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
        if session.get("role") != "reviewer":
            abort(403)
        decision = request.form.get("decision", "")
        reason = request.form.get("reason", "").strip()[:MAX_REASON_CHARS]
        if decision not in REVIEW_DECISIONS or not reason:
            flash("Pilih keputusan dan tulis alasannya / Choose a decision and write the reason")
            return redirect(url_for("case", case_id=case_id))
        try:
            store.record_review(case_id, str(user()), decision, reason)
        except SessionStateError as exc:
            abort(409, exc.message)
        flash(f"Keputusan dicatat / Decision recorded: {DECISION_LABELS[decision]}")
        return redirect(url_for("queue"))

    return app
