"""Fingerprint provenance: whether a print the station sent was made by a trusted SBI device.

The station forwards each print with the signed capture record the device returned
(lebong_contract.sbi_record). A print is

- attributed when its record's signature verifies with the device key the station names,
  that key is on the office's device trust list, the record's image and finger are the
  print's, its transaction names this session (the station puts the session id in each
  transaction id it sends the device, and the device signs it), and its hash continues the
  session's chain (it follows the previous print's record, or starts the chain);
- forged when the record contradicts the print: its signature does not verify with the key
  it names (altered after signing), or it signed another image or another finger (an image
  swapped under a genuine record). The station checks every record itself and never
  forwards one that fails, so this is tampering between the device and the verifier: the
  case fails;
- unattributed otherwise: no record (a development station's folder), no trust list, a
  device not on it, a record that cannot be read, a record of another session (replayed, or
  from a station that does not bind its captures), or a break in the chain (a record
  dropped, reordered, or a print the verifier rejected earlier). Not proof of fraud: the case
  goes to review.

The chain hash lies outside the signature (as in MOSIP), so it tells a dropped or reordered
record from an honest path, not from a station that recomputes it; the signature, the trust
list and the image comparison are what a tampering station cannot get round.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lebong_contract.errors import InvalidInput
from lebong_contract.sbi_record import (BIO_SUBTYPES, GENESIS_HASH, SIGNATURE_INVALID,
                                        SbiCaptureRecord, chain_hash, public_key_from_text,
                                        public_key_text, read_trust_file, record_image,
                                        transaction_prefix, verify_jws)
from verifier.photo.result import Outcome, RequirementResult

log = logging.getLogger(__name__)

REQUIREMENT = "device_attestation"


class Attribution(enum.Enum):
    ATTRIBUTED = "attributed"
    UNATTRIBUTED = "unattributed"
    FORGED = "forged"


@dataclass(frozen=True)
class Provenance:
    """What the record of one print says about where it came from."""

    attribution: Attribution
    reason: str  # stable: "attributed", "no_record", "unknown_device", "bad_signature", ...
    detail: str  # one English sentence for the log and the flag's evidence
    device_id: str = ""  # the record's digitalId, when it could be read
    record_hash: str = ""  # the record's chain value: the next print's record follows it

    def to_record(self) -> dict[str, Any]:
        return {"attribution": self.attribution.value, "reason": self.reason,
                "detail": self.detail, "device_id": self.device_id,
                "record_hash": self.record_hash}

    @classmethod
    def from_record(cls, record: Any) -> Provenance | None:
        """The stored form back; None for a print stored without one (before this check)."""
        if not isinstance(record, dict):
            return None
        try:
            attribution = Attribution(record.get("attribution"))
        except ValueError:
            return None
        return cls(attribution=attribution, reason=str(record.get("reason", "")),
                   detail=str(record.get("detail", "")),
                   device_id=str(record.get("device_id", "")),
                   record_hash=str(record.get("record_hash", "")))


class DeviceTrustList:
    """The `[fingerprint] device_trust_file`, re-read when it changes, so a device is added
    or withdrawn without a restart. An unset or unreadable file trusts no device (and an
    unreadable one is logged): every print is then unattributed, never silently trusted."""

    def __init__(self, path: str) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: frozenset[str] = frozenset()
        self._problem = "no device trust file is configured ([fingerprint] device_trust_file)"

    def keys(self) -> tuple[frozenset[str], str]:
        """The trusted keys, and why there are none when there are none."""
        if self.path is None:
            return frozenset(), self._problem
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
            except OSError as exc:
                stamp, problem = None, f"device trust file {str(self.path)!r}: {exc.strerror}"
                if problem != self._problem:
                    log.error("%s; no fingerprint device is trusted", problem)
                self._stamp, self._keys, self._problem = None, frozenset(), problem
                return self._keys, self._problem
            if stamp != self._stamp:
                try:
                    self._keys, self._problem = read_trust_file(self.path), ""
                except InvalidInput as exc:
                    log.error("%s; no fingerprint device is trusted", exc.message)
                    self._keys, self._problem = frozenset(), exc.message
                self._stamp = stamp
            return self._keys, self._problem


def _unattributed(reason: str, detail: str, device_id: str = "", record_hash: str = ""
                  ) -> Provenance:
    return Provenance(Attribution.UNATTRIBUTED, reason, detail, device_id, record_hash)


def _forged(reason: str, detail: str, device_id: str = "") -> Provenance:
    return Provenance(Attribution.FORGED, reason, detail, device_id)


def attribute(record: SbiCaptureRecord | None, image: bytes, position: int,
              previous_hash: str, trusted: frozenset[str], no_trust_reason: str = "", *,
              client_session_id: str | None = None) -> Provenance:
    """The provenance of the print `image` at `position`. `previous_hash` is the chain value
    of the session's previous print record (GENESIS_HASH for none); `trusted` the device keys
    of the trust list, `no_trust_reason` why it is empty; `client_session_id` the session the
    record's transaction must name (the counter always gives it; None skips that check)."""
    if record is None:
        return _unattributed("no_record", "the print came with no signed device record")
    try:
        key = public_key_from_text(record.device_public_key)
        payload = verify_jws(record.jws, key)
        signed_image = record_image(payload)
    except InvalidInput as exc:
        if exc.reason == SIGNATURE_INVALID:
            return _forged("bad_signature", exc.message)
        return _unattributed("malformed_record", exc.message)
    device_id = str(payload.get("digitalId", ""))
    if signed_image != image:
        return _forged("image_differs", "the image sent is not the one the device signed",
                       device_id)
    if payload.get("bioSubType") != BIO_SUBTYPES.get(position):
        return _forged("finger_differs",
                       f"the device signed {payload.get('bioSubType')!r}, the print was sent "
                       f"as {BIO_SUBTYPES.get(position)!r}", device_id)
    try:
        own_hash = chain_hash(record.previous_hash, image)
    except InvalidInput as exc:
        return _unattributed("malformed_record", exc.message, device_id)
    if record.hash != own_hash:
        return _unattributed("chain_broken", "the record's hash does not follow from its image",
                             device_id)
    transaction = str(payload.get("transactionId", ""))
    if client_session_id is not None and not transaction.startswith(
            transaction_prefix(client_session_id)):
        return _unattributed(
            "other_session", "the record's transaction is not this session's (a record "
            "replayed from another session, or a station that does not bind its captures)",
            device_id, own_hash)
    if record.previous_hash != previous_hash:
        return _unattributed(
            "chain_broken", "the record does not follow the session's previous print record "
            "(a record was dropped or reordered, or an earlier print was rejected)",
            device_id, own_hash)
    if public_key_text(key) not in trusted:
        return _unattributed("unknown_device",
                             no_trust_reason or f"device {device_id or '?'}'s key is not on the "
                             "device trust list", device_id, own_hash)
    return Provenance(Attribution.ATTRIBUTED, "attributed",
                      f"signed by trusted device {device_id or '?'}", device_id, own_hash)


def previous_record_hash(earlier: list[Provenance | None]) -> str:
    """The chain value the next print's record must follow: the last earlier print that
    carried a readable record, else the start of the chain."""
    for provenance in reversed(earlier):
        if provenance is not None and provenance.record_hash:
            return provenance.record_hash
    return GENESIS_HASH


def attestation_check(provenance: Provenance) -> RequirementResult:
    """The item check the officer sees with the print's result."""
    outcome = {Attribution.ATTRIBUTED: Outcome.PASS, Attribution.FORGED: Outcome.FAIL,
               Attribution.UNATTRIBUTED: Outcome.UNKNOWN}[provenance.attribution]
    message_id = {
        Attribution.ATTRIBUTED: "Sidik jari ditandatangani perangkat terpercaya",
        Attribution.UNATTRIBUTED: "Asal sidik jari tidak dapat dipastikan; kasus akan ditinjau",
        Attribution.FORGED: "Rekaman perangkat sidik jari tidak sesuai; kasus gagal",
    }[provenance.attribution]
    return RequirementResult(
        requirement=REQUIREMENT, outcome=outcome,
        value=1.0 if outcome is Outcome.PASS else 0.0, unit="attributed",
        score=100.0 if outcome is Outcome.PASS else 0.0, threshold=1.0,
        message_id=message_id, message_en=f"Fingerprint provenance: {provenance.detail}")
