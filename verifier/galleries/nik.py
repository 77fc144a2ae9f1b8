"""The NIK in a gallery: a keyed hash, so that a copy of the gallery tables does not list who
applied, while "every enrolment under this NIK" stays one indexed lookup.

`<key id>:<hex HMAC-SHA256(K, NIK)>`, where K = HMAC-SHA256(evidence key, "gallery-nik"):
the evidence key itself never keys anything but AES-GCM, and the domain label keeps this hash
apart from any other use of the same key. The key id in the stored value says which key made
it; during a key rotation rows hashed under the old key are found by looking up the hashes
under every key of the ring, and `reencrypt` re-hashes them under the new one (from the
row's sealed copy of the NIK: an HMAC cannot be turned back).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from verifier.cases.crypto import KeyRing
from lebong_contract.errors import InvalidInput

_DOMAIN = b"gallery-nik"


@dataclass(frozen=True)
class NikHasher:
    keys: KeyRing

    def _digest(self, key_id: str, nik: str) -> str:
        key = hmac.new(self.keys.keys[key_id], _DOMAIN, hashlib.sha256).digest()
        return f"{key_id}:{hmac.new(key, _normal(nik).encode(), hashlib.sha256).hexdigest()}"

    def hash(self, nik: str) -> str:
        """The stored form, under the active key."""
        return self._digest(self.keys.active_id, nik)

    def lookups(self, nik: str) -> list[str]:
        """The stored forms under every key of the ring (rows not yet re-hashed)."""
        return [self._digest(key_id, nik) for key_id in self.keys.keys]

    def matches(self, nik_hash: str, nik: str) -> bool:
        """Whether a stored hash (from any key still in the ring) is this NIK's."""
        key_id = nik_hash.split(":", 1)[0]
        return key_id in self.keys.keys and hmac.compare_digest(
            self._digest(key_id, nik), nik_hash)


def _normal(nik: str) -> str:
    text = nik.strip()
    if not text:
        raise InvalidInput("a gallery enrolment needs a NIK", reason="NIK_MISSING")
    return text
