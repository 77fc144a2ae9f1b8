"""Account credentials: passwords hashed with scrypt (RFC 7914), each with its own salt, and
TOTP second factors (RFC 6238 through pyotp: 30 s steps, 6 digits).

Cost: OWASP's current scrypt minimum, N=2^17, r=8, p=1 (128 MiB per hash). Measured on the
2-core development machine: median of 5 hashes 0.42 s (hashlib.scrypt, idle machine). A login
can afford it and it makes offline guessing expensive. Hashes stored with a lower cost still
verify and are re-hashed at the current cost on the next successful sign-in
(verifier.cases.sign_in).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time

import pyotp

SCRYPT_N = 2 ** 17
SCRYPT_R = 8
SCRYPT_P = 1
# reviewers decide cases; auditors only look; officers run capture stations
ROLES = ("reviewer", "auditor", "officer")
MIN_PASSWORD_CHARS = 12
TOTP_STEP_S = 30
TOTP_ISSUER = "verifier"


def _memory(n: int, r: int, p: int) -> int:
    """What scrypt needs (128 x N x r x p bytes) plus slack: hashes made with a larger N
    later still verify."""
    return 128 * n * r * p + 2 ** 20


def _hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=_memory(SCRYPT_N, SCRYPT_R, SCRYPT_P), dklen=32)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    return _hash(password)


@functools.cache
def dummy_hash() -> str:
    """A hash nobody knows the password of, at the current cost: unknown user names are
    checked against it, so they take as long as known ones (no timing tells which exist)."""
    return _hash(secrets.token_urlsafe(32))


def needs_rehash(stored: str) -> bool:
    """True for a hash made at less than the current cost."""
    try:
        _, n, r, p, _, _ = stored.split("$")
        return (int(n), int(r), int(p)) < (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    except ValueError:
        return False


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), maxmem=_memory(int(n), int(r), int(p)),
                                dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app enrols from (as text or a QR code)."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_S).provisioning_uri(name=username,
                                                                     issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step `code` is valid for (this step or one either side, for clock drift), or
    None. Callers keep the last step used so that a code cannot be replayed."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_S)
    current = int((time.time() if now is None else now) // TOTP_STEP_S)
    matched = None
    for step in (current - 1, current, current + 1):  # all three: the same time for any code
        if hmac.compare_digest(totp.at(step * TOTP_STEP_S), code):
            matched = step
    return matched
