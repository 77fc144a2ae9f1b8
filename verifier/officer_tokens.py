"""Officers at the capture station: signing in, and the token that opens their sessions.

An officer signs in at the station (password, and a TOTP code where one is enrolled) against
the verifier's accounts (verifier.cases.sign_in, role "officer"). The answer is a random token
bound to the calling station's certificate identity; it lives `[server] officer_token_minutes`.
A SessionStart carries it, and the case records the token's officer, never a name the
message gives: a station cannot open a session in an officer's name without their password,
and a token taken from one station is refused at another (and logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from verifier.cases.sign_in import SignInPolicy, SignInRefused
from verifier.cases.store import CaseStore
from verifier.config import Config
from lebong_contract.errors import PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)

OFFICER_ROLE = "officer"
TOKEN_PURPOSE = "officer"
# Refusals that would tell which accounts exist, or which are disabled: one answer for all.
_NOT_SAID = frozenset({"BAD_CREDENTIALS", "ACCOUNT_DISABLED", "ROLE_NOT_ALLOWED"})


@dataclass(frozen=True)
class OfficerToken:
    token: str
    officer_id: str
    expires_at: datetime


class OfficerSignIn:
    def __init__(self, store: CaseStore, config: Config) -> None:
        self.store = store
        self.config = config

    def sign_in(self, username: str, password: str, totp_code: str, station_id: str
                ) -> OfficerToken:
        """A token for the officer at `station_id`, or SignInRefused (UNAUTHENTICATED).
        Failures are throttled per account and per station (verifier.cases.sign_in)."""
        try:
            signed_in = self.store.sign_ins.sign_in(
                username, password, totp_code, (OFFICER_ROLE,), f"station:{station_id}",
                policy=SignInPolicy.from_config(self.config.cases))
        except SignInRefused as exc:
            log.warning("officer sign-in as %r at station %s refused: %s", username[:64],
                        station_id, exc.reason)
            if exc.reason in _NOT_SAID:
                raise SignInRefused("BAD_CREDENTIALS",
                                    "wrong officer name or password") from None
            raise
        lifetime = timedelta(minutes=self.config.server.officer_token_minutes)
        token = self.store.sign_ins.open_session(signed_in, purpose=TOKEN_PURPOSE,
                                                 client=station_id, idle=lifetime,
                                                 lifetime=lifetime)
        log.info("officer %s signed in at station %s", signed_in.username, station_id)
        return OfficerToken(token, signed_in.username,
                            datetime.now(timezone.utc) + lifetime)

    def officer_for_start(self, client_session_id: str, token: str, station_id: str) -> str:
        """The officer a SessionStart from `station_id` opens its session for: the token's.
        A resent Start of a session that exists keeps the officer it was opened with (its
        content must be the first Start's anyway: verifier.cases.store.check_resend)."""
        case = self.store.find_case(client_session_id)
        if case is not None:
            return self.store.summary(case.case_id).officer_id
        if not token:
            raise Unauthenticated(
                "SessionStart carries no officer token: the officer signs in at the station "
                "first (capture-station run --officer NAME)", reason="OFFICER_TOKEN_MISSING")
        try:
            officer = self.store.sign_ins.session_user(token, TOKEN_PURPOSE, client=station_id)
        except PermissionDenied:
            log.warning("refused session %s: station %s presented an officer token issued to "
                        "another station", client_session_id, station_id)
            raise PermissionDenied(
                f"this officer token was issued to another station, not {station_id}; the "
                "officer signs in at this station", reason="OFFICER_TOKEN_OTHER_STATION",
                metadata={"station": station_id}) from None
        if officer is None:
            raise Unauthenticated("the officer token is unknown or expired (or the account "
                                  "was disabled): sign in again", reason="OFFICER_TOKEN_INVALID")
        if officer.role != OFFICER_ROLE:
            raise PermissionDenied(f"account {officer.username} is no longer an officer",
                                   reason="NOT_AN_OFFICER")
        return officer.username
