"""Review-page accounts: passwords hashed with scrypt (RFC 7914), each with its own salt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 2^15 x 8 x 1: ~150 ms and 32 MiB per hash on these 2-core machines (bench/REPORT-cases.md),
# which a login can afford and which makes guessing offline expensive (OWASP's scrypt
# minimum is 2^17 x 8 x 1 at 128 MiB; raise N where memory and login latency allow).
SCRYPT_N = 2 ** 15
SCRYPT_R = 8
SCRYPT_P = 1
ROLES = ("reviewer", "auditor")  # reviewers decide; auditors only look
MIN_PASSWORD_CHARS = 12


def _memory(n: int, r: int, p: int) -> int:
    """What scrypt needs (128 x N x r x p bytes) plus slack: hashes made with a larger N
    later still verify."""
    return 128 * n * r * p + 2 ** 20


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=_memory(SCRYPT_N, SCRYPT_R, SCRYPT_P), dklen=32)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


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
