"""AES-256-GCM encryption at rest for evidence images, templates and personal data.

A sealed value is `LVE1 | len(key id) | key id | 12-byte nonce | ciphertext+tag`. The key id
inside each value lets old rows stay readable while `verifier keys rotate` re-encrypts them
under the newest key. The associated data binds each value to its row and column, so a
ciphertext copied onto another case does not decrypt.

Keys come from a key file (one `key_id base64` line per key, the last line active) or from
the configuration (`"key_id:base64"` strings, the last active). A key file that its group or
others may read or write is refused: whoever can read it can read every case.

A running process holds its key file as a `KeyFileRing`, which follows the file: after
`verifier keys rotate` every verifier and review page seals with the new key within
`RECHECK_SECONDS`, without a restart, so the old key can be retired once that window has
passed and nothing is sealed with it any more.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lebong_contract.errors import VerifierError

log = logging.getLogger(__name__)

MAGIC = b"LVE1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# How often a running process looks (one stat) whether its key file changed.
RECHECK_SECONDS = 1.0


class EvidenceKeyError(VerifierError):
    """A key is missing, malformed or does not open a stored value."""

    reason = "EVIDENCE_KEY"


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes] = field(repr=False)  # key id -> 32-byte key (never logged)
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise EvidenceKeyError(f"active key {self.active_id!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise EvidenceKeyError(f"key id {key_id!r} must be 1-64 of A-Z a-z 0-9 _ . -")
            if len(key) != KEY_BYTES:
                raise EvidenceKeyError(f"key {key_id!r} has {len(key)} bytes, "
                                       f"AES-256 needs {KEY_BYTES}")

    def current(self) -> KeyRing:
        """The keys as of now, fixed (a `KeyFileRing` changes when its file does)."""
        return self

    def seal(self, plaintext: bytes, context: str) -> bytes:
        key_id = self.active_id.encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext, context.encode())
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        key_id = sealed_key_id(blob)
        key = self.keys.get(key_id)
        if key is None:
            raise EvidenceKeyError(f"stored value is sealed with key {key_id!r}, "
                                   "which is not in the key ring")
        start = len(MAGIC) + 1 + len(key_id)
        nonce, sealed = blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise EvidenceKeyError(f"stored value for {context.split(':')[0]} failed "
                                   "authentication (altered, or moved from another row)") from None

    def without(self, key_ids: Iterable[str]) -> KeyRing:
        """The ring less `key_ids`; the active key cannot be among them."""
        retired = set(key_ids)
        if self.active_id in retired:
            raise EvidenceKeyError(f"{self.active_id} is the active key and cannot be retired")
        return KeyRing({k: v for k, v in self.keys.items() if k not in retired}, self.active_id)

    def seal_text(self, text: str, context: str) -> str:
        return base64.b64encode(self.seal(text.encode(), context)).decode("ascii")

    def open_text(self, stored: str, context: str) -> str:
        return self.open(base64.b64decode(stored), context).decode()


def sealed_key_id(blob: bytes) -> str:
    if blob[:len(MAGIC)] != MAGIC or len(blob) < len(MAGIC) + 1:
        raise EvidenceKeyError("stored value is not sealed evidence (no LVE1 header)")
    n = blob[len(MAGIC)]
    return blob[len(MAGIC) + 1:len(MAGIC) + 1 + n].decode("ascii", "replace")


def sealed_text_key_id(stored: str) -> str:
    # 96 base64 characters are 72 bytes: the longest header (4 + 1 + 64 + nonce) fits.
    return sealed_key_id(base64.b64decode(stored[:96]))


def new_key_id() -> str:
    return "k" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + secrets.token_hex(2)


def _parse_line(text: str, sep: str | None, where: str) -> tuple[str, bytes]:
    parts = text.split(sep, 1) if sep else text.split(None, 1)
    if len(parts) != 2:
        raise EvidenceKeyError(f"{where}: expected 'key_id{sep or ' '}base64-key'")
    try:
        key = base64.b64decode(parts[1].strip(), validate=True)
    except ValueError:
        raise EvidenceKeyError(f"{where}: key is not base64") from None
    return parts[0].strip(), key


def ring_from_lines(lines: list[tuple[str, bytes]], where: str) -> KeyRing:
    if not lines:
        raise EvidenceKeyError(f"{where} holds no key")
    return KeyRing(keys=dict(lines), active_id=lines[-1][0])


def check_key_file_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise EvidenceKeyError(f"key file {path} has mode {mode:04o}: its group or others may "
                               f"read or change it; restrict it with `chmod 600 {path}`")


def load_key_file(path: Path) -> KeyRing:
    try:
        check_key_file_mode(path)
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise EvidenceKeyError(f"key file {path} does not exist (create one with "
                               "`verifier keys init --key-file PATH`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceKeyError(f"key file {path} is unreadable: {exc}") from None
    lines = [_parse_line(line, None, f"{path}:{n}")
             for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    return ring_from_lines(lines, str(path))


def ring_from_config(entries: tuple[str, ...]) -> KeyRing:
    return ring_from_lines([_parse_line(e, ":", f"[cases].keys[{i}]")
                            for i, e in enumerate(entries)], "[cases].keys")


def write_key_file(path: Path, ring: KeyRing) -> None:
    """Atomically, readable by the owner only, the active key last."""
    order = [k for k in ring.keys if k != ring.active_id] + [ring.active_id]
    text = "# verifier evidence keys: key_id base64(32 bytes); the last line is active\n" + "".join(
        f"{k} {base64.b64encode(ring.keys[k]).decode()}\n" for k in order)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def generate_ring(existing: KeyRing | None = None) -> KeyRing:
    """`existing` plus a new active key."""
    key_id = new_key_id()
    keys = dict(existing.keys) if existing else {}
    keys[key_id] = secrets.token_bytes(KEY_BYTES)
    return KeyRing(keys=keys, active_id=key_id)


class KeyFileRing(KeyRing):
    """A key file's ring that follows the file while the process runs.

    Before the ring is used it stats the file (at most every `recheck_s` seconds) and reloads
    it when the inode, size, modification time or mode changed, so new values are sealed with the
    key `verifier keys rotate` made active. A value sealed with a key id the ring lacks
    (re-sealed by a rotation in another process) reloads it at once. A file that cannot be
    read or is refused (permissions, syntax) keeps the keys loaded and logs the error: a
    botched edit must not stop the service or make it seal with nothing.
    """

    def __init__(self, path: Path, recheck_s: float = RECHECK_SECONDS) -> None:
        # Not the dataclass's __init__: `keys` and `active_id` are the current ring's.
        self._path = path
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._ring = load_key_file(path)
        self._next_check = time.monotonic() + recheck_s

    @property  # type: ignore[override]
    def keys(self) -> dict[str, bytes]:
        return self.current().keys

    @property  # type: ignore[override]
    def active_id(self) -> str:
        return self.current().active_id

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = self._path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode

    def current(self) -> KeyRing:
        """The ring as the key file holds it now (checked at most every `recheck_s`)."""
        if time.monotonic() >= self._next_check:
            self.reload(force=False)
        return self._ring

    def reload(self, force: bool = True) -> KeyRing:
        """Read the file again when it changed (always with `force`); returns the ring."""
        with self._lock:
            self._next_check = time.monotonic() + self._recheck_s
            stamp = self._stat()
            if stamp is None or (stamp == self._stamp and not force):
                return self._ring
            try:
                ring = load_key_file(self._path)
            except EvidenceKeyError as exc:
                self._stamp = stamp  # logged once per change; fixing the mode is a change too
                log.error("key file changed but was not reloaded (keeping key %s): %s",
                          self._ring.active_id, exc)
                return self._ring
            if ring.active_id != self._ring.active_id:
                log.warning("key file %s reloaded: new values are sealed with key %s",
                            self._path, ring.active_id)
            self._ring, self._stamp = ring, stamp
            return ring

    def seal(self, plaintext: bytes, context: str) -> bytes:
        return self.current().seal(plaintext, context)

    def open(self, blob: bytes, context: str) -> bytes:
        ring = self.current()
        if sealed_key_id(blob) not in ring.keys:
            ring = self.reload()
        return ring.open(blob, context)
