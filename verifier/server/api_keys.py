"""API keys for PrecheckService callers without a client certificate.

The file (`[precheck] api_keys_file`) holds one `name role sha256hex` line per key; only the
SHA-256 of each key is kept, so the file reveals no key. Keys are 256-bit random strings,
which is why a plain hash (no salt, no slow hash) is enough. The server re-reads the file
when it changes, so `verifier precheck-keys add` and `remove` take effect without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from verifier.pki.names import check_client_name

log = logging.getLogger(__name__)

# What a key may do; PrecheckService is the only service open to keys.
ROLES = ("precheck",)


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: str
    sha256: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def read_keys(path: Path) -> tuple[ApiKey, ...]:
    """Every key in the file; ValueError naming the line for anything malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"API key file {path}: {exc.strerror or exc}") from None
    keys: list[ApiKey] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        where = f"API key file {path} line {number}"
        if len(parts) != 3:
            raise ValueError(f"{where}: expected 'name role sha256hex'")
        name, role, digest = parts
        try:
            check_client_name(name)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if role not in ROLES:
            raise ValueError(f"{where}: unknown role {role!r} (known: {', '.join(ROLES)})")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{where}: the hash must be 64 lower-case hex digits")
        if any(k.name == name for k in keys):
            raise ValueError(f"{where}: {name} is listed twice")
        keys.append(ApiKey(name, role, digest))
    return tuple(keys)


def _write_keys(path: Path, keys: tuple[ApiKey, ...]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# name role sha256(key); written by `verifier precheck-keys`\n")
        fh.writelines(f"{k.name} {k.role} {k.sha256}\n" for k in keys)
    tmp.replace(path)


def add_key(path: Path, name: str, role: str = "precheck") -> str:
    """Create a key for `name`, store its hash, and return the key (shown only this once)."""
    check_client_name(name)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    keys = read_keys(path) if path.exists() else ()
    if any(k.name == name for k in keys):
        raise ValueError(f"{name} already has a key in {path}; remove it first")
    key = secrets.token_urlsafe(32)
    _write_keys(path, (*keys, ApiKey(name, role, _digest(key))))
    return key


def remove_key(path: Path, name: str) -> None:
    keys = read_keys(path)
    if all(k.name != name for k in keys):
        raise ValueError(f"{path} holds no key named {name}")
    _write_keys(path, tuple(k for k in keys if k.name != name))


class ApiKeys:
    """The keys in force. Start-up fails on a bad file; a bad file written later keeps the
    last good keys (logged), as the revocation list does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._file_stamp()
        self._keys = read_keys(path)

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _current(self) -> tuple[ApiKey, ...]:
        stamp = self._file_stamp()
        if stamp is not None and stamp != self._stamp:
            try:
                self._keys = read_keys(self.path)
                log.info("API key file %s reloaded: %d key(s)", self.path, len(self._keys))
            except ValueError as exc:
                log.error("%s; keeping the last good keys", exc)
            self._stamp = stamp
        return self._keys

    def find(self, key: str) -> ApiKey | None:
        """The key's entry, or None. Every entry is compared in constant time."""
        digest = _digest(key)
        found = None
        for entry in self._current():
            if hmac.compare_digest(entry.sha256, digest):
                found = entry
        return found
