"""Signing in against the case store's accounts, for the review page and for officers at a
capture station; and the server-side sessions a sign-in opens.

`SignIns.sign_in` checks, in this order: the throttle (failures per account and per client
address counted in the database, so the limit holds across threads and processes), the
password (scrypt runs for unknown names too, against a dummy hash, so timing does not tell
which accounts exist), the account being enabled and of an allowed role, and the TOTP code
(required where one is enrolled, or for every account when the caller says so; each code
works once per account). Every outcome is audited.

A session is a random token; only its SHA-256 is stored. The account's role and disabled
flag are read on every use, so disabling an account or closing the session ends it at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from verifier.cases.accounts import (check_password, dummy_hash, hash_password, needs_rehash,
                                     new_totp_secret, totp_step, totp_uri)
from verifier.cases.audit import AuditLog
from verifier.cases.crypto import KeyRing, sealed_text_key_id
from verifier.cases.schema import SignedInSessionRow, SignInAttemptRow, UserRow
from verifier.config import CasesConfig
from lebong_contract.errors import PermissionDenied, Unauthenticated


@dataclass(frozen=True)
class SignInPolicy:
    """Throttling: at most this many sign-ins that did not succeed within `window`, per
    account and per client address; further attempts are refused without a password check."""

    failures_per_account: int = 5
    failures_per_client: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, cases: CasesConfig) -> SignInPolicy:
        return cls(cases.sign_in_failures_per_account, cases.sign_in_failures_per_client,
                   timedelta(minutes=cases.sign_in_window_minutes))


@dataclass(frozen=True)
class SignedIn:
    username: str
    role: str


class SignInRefused(Unauthenticated):
    """`reason` says why: THROTTLED, BAD_CREDENTIALS, ACCOUNT_DISABLED, ROLE_NOT_ALLOWED,
    TOTP_NOT_ENROLLED, TOTP_REQUIRED, TOTP_WRONG or TOTP_REPLAYED. Only THROTTLED and the
    TOTP reasons may be shown as such to the person signing in; the others are
    "wrong user name or password" to them."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignIns:
    def __init__(self, sessions: sessionmaker[Session], keys: Callable[[], KeyRing],
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._keys = keys  # a callable: the store's ring changes on rotation
        self._audit = audit

    # -- signing in ---------------------------------------------------------------------

    def sign_in(self, username: str, password: str, totp_code: str, roles: Collection[str],
                client: str, *, require_totp: bool = False,
                policy: SignInPolicy = SignInPolicy()) -> SignedIn:
        """The signed-in account, or SignInRefused. `client` is the caller's address (or
        station id): failures are counted against it as well as against `username`."""
        username, client = username[:64], client[:128]
        try:
            attempt = self._admit(username, client, policy)
            signed_in = self._check(username, password, totp_code, roles, require_totp)
        except SignInRefused as refused:
            self._audit.append(username or "-", "sign_in_refused", "",
                               {"client": client, "reason": refused.reason})
            raise
        with self._sessions.begin() as db:
            # This attempt and the account's earlier failures no longer count.
            db.execute(delete(SignInAttemptRow).where(or_(
                SignInAttemptRow.id == attempt, SignInAttemptRow.username == username)))
        self._audit.append(username, "sign_in", "", {"client": client})
        return signed_in

    def _admit(self, username: str, client: str, policy: SignInPolicy) -> int:
        """Record the attempt before any password check, and count, in one transaction: of
        any number of parallel attempts at most the policy's count get through."""
        now = _now()
        with self._sessions.begin() as db:
            if db.get_bind().dialect.name == "postgresql":
                # Serialise the count-and-insert (SQLite's single writer does it already).
                db.execute(text("LOCK TABLE sign_in_attempts IN SHARE ROW EXCLUSIVE MODE"))
            row = SignInAttemptRow(username=username, client=client, at=now)
            db.add(row)
            db.flush()
            since = now - policy.window
            db.execute(delete(SignInAttemptRow).where(SignInAttemptRow.at < since))
            by_account = db.scalar(select(func.count()).select_from(SignInAttemptRow).where(
                SignInAttemptRow.username == username, SignInAttemptRow.at >= since))
            by_client = db.scalar(select(func.count()).select_from(SignInAttemptRow).where(
                SignInAttemptRow.client == client, SignInAttemptRow.at >= since))
            if (by_account or 0) > policy.failures_per_account or \
                    (by_client or 0) > policy.failures_per_client:
                minutes = int(policy.window.total_seconds() // 60)
                # Raising rolls the insert back: refused attempts do not extend the pause.
                raise SignInRefused("THROTTLED", "too many failed sign-ins; try again in "
                                    f"{minutes} minutes")
            return row.id

    def _check(self, username: str, password: str, totp_code: str, roles: Collection[str],
               require_totp: bool) -> SignedIn:
        with self._sessions() as db:
            user = db.get(UserRow, username) if username else None
        stored = user.password_hash if user is not None else dummy_hash()
        if not check_password(password, stored) or user is None:
            raise SignInRefused("BAD_CREDENTIALS", "wrong user name or password")
        if needs_rehash(stored):
            with self._sessions.begin() as db:
                db.execute(update(UserRow).where(UserRow.username == username,
                                                 UserRow.password_hash == stored)
                           .values(password_hash=hash_password(password)))
        if user.disabled:
            raise SignInRefused("ACCOUNT_DISABLED", f"account {username} is disabled")
        if user.role not in roles:
            raise SignInRefused("ROLE_NOT_ALLOWED",
                                f"a {user.role} account cannot sign in here")
        if user.totp_secret is None:
            if require_totp:
                raise SignInRefused("TOTP_NOT_ENROLLED", "this account needs a second factor "
                                    f"first: `verifier users totp {username}`")
        else:
            self._use_totp(user, totp_code)
        return SignedIn(username, user.role)

    def _use_totp(self, user: UserRow, code: str) -> None:
        if not code.strip():
            raise SignInRefused("TOTP_REQUIRED", "enter the 6-digit code from your "
                                "authenticator app")
        assert user.totp_secret is not None
        secret = self._keys().open_text(user.totp_secret, _totp_context(user.username))
        step = totp_step(secret, code)
        if step is None:
            raise SignInRefused("TOTP_WRONG", "wrong or expired authenticator code")
        with self._sessions.begin() as db:
            # Conditional update: of two sign-ins racing with one code, one wins.
            used = db.execute(update(UserRow).where(
                UserRow.username == user.username,
                or_(UserRow.totp_last_step.is_(None), UserRow.totp_last_step < step))
                .values(totp_last_step=step)).rowcount
        if used != 1:
            raise SignInRefused("TOTP_REPLAYED", "that authenticator code was already used; "
                                "wait for the next one")

    def enrol_totp(self, username: str, actor: str = "cli") -> str:
        """A new TOTP secret for the account (replacing any earlier one); returns the
        otpauth:// URI to enrol an authenticator app with. The secret is stored sealed."""
        secret = new_totp_secret()
        with self._sessions.begin() as db:
            user = db.get(UserRow, username)
            if user is None:
                raise ValueError(f"no user {username}")
            user.totp_secret = self._keys().seal_text(secret, _totp_context(username))
            user.totp_last_step = None
        self._audit.append(actor, "totp_enrolled", "", {"username": username})
        return totp_uri(secret, username)

    def reencrypt(self, new_keys: KeyRing) -> int:
        """Re-seal every TOTP secret not sealed with `new_keys`' active key (key rotation);
        returns how many changed."""
        changed = 0
        with self._sessions.begin() as db:
            for user in db.scalars(select(UserRow).where(UserRow.totp_secret.is_not(None))):
                assert user.totp_secret is not None
                if sealed_text_key_id(user.totp_secret) != new_keys.active_id:
                    ctx = _totp_context(user.username)
                    user.totp_secret = new_keys.seal_text(
                        new_keys.open_text(user.totp_secret, ctx), ctx)
                    changed += 1
        return changed

    # -- sessions -----------------------------------------------------------------------

    def open_session(self, signed_in: SignedIn, purpose: str, client: str, idle: timedelta,
                     lifetime: timedelta) -> str:
        """A new session token: it ends after `idle` without use, or `lifetime` at most."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with self._sessions.begin() as db:
            # Sessions past their lifetime that nobody presented again: tidy them away.
            db.execute(delete(SignedInSessionRow).where(SignedInSessionRow.expires_at < now))
            db.add(SignedInSessionRow(
                token_sha256=_token_hash(token), username=signed_in.username, purpose=purpose,
                client=client[:128], created_at=now, last_seen_at=now,
                idle_seconds=int(idle.total_seconds()), expires_at=now + lifetime))
        return token

    def session_user(self, token: str, purpose: str, client: str | None = None
                     ) -> SignedIn | None:
        """Who holds this session now (the role as the account has it now), or None when
        the token is unknown, expired, idle too long or its account disabled. With `client`,
        a session opened by another client raises PermissionDenied."""
        if not token:
            return None
        now = _now()
        with self._sessions.begin() as db:
            row = db.get(SignedInSessionRow, _token_hash(token))
            if row is None or row.purpose != purpose:
                return None
            user = db.get(UserRow, row.username)
            idle_until = _utc(row.last_seen_at) + timedelta(seconds=row.idle_seconds)
            if user is None or user.disabled or now > min(idle_until, _utc(row.expires_at)):
                db.delete(row)
                return None
            if client is not None and client[:128] != row.client:
                raise PermissionDenied(f"session of {row.client} presented by {client}")
            row.last_seen_at = now
            return SignedIn(user.username, user.role)

    def close_session(self, token: str) -> None:
        with self._sessions.begin() as db:
            db.execute(delete(SignedInSessionRow).where(
                SignedInSessionRow.token_sha256 == _token_hash(token)))


def _totp_context(username: str) -> str:
    return f"users.totp_secret:{username}"
