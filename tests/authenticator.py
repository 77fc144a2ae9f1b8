"""Signing in for tests: an authenticator app that enrols a TOTP secret and gives each
sign-in a fresh code (a code works once per account, so the next sign-in needs the next time
step), and the role a password signs in with."""

from __future__ import annotations

import time

import pyotp

from verifier.cases.accounts import ROLES, TOTP_STEP_S
from verifier.cases.sign_in import SignInRefused
from verifier.cases.store import CaseStore


class Authenticator:
    def __init__(self, store: CaseStore, username: str) -> None:
        self.secret = pyotp.parse_uri(store.sign_ins.enrol_totp(username)).secret
        self._last = -(2 ** 62)

    def code(self) -> str:
        """A code for a step not used yet: the current one (still accepted if the clock moves
        on before it is checked), else the next; waits when both are used."""
        step = max(self._last + 1, int(time.time() // TOTP_STEP_S))
        while step > int(time.time() // TOTP_STEP_S) + 1:
            time.sleep(1)
        self._last = step
        return pyotp.TOTP(self.secret, interval=TOTP_STEP_S).at(step * TOTP_STEP_S)


def role_of(store: CaseStore, username: str, password: str) -> str | None:
    """The account's role when it signs in (no second factor enrolled), else None."""
    try:
        return store.sign_ins.sign_in(username, password, "", ROLES, "test-client").role
    except SignInRefused:
        return None
