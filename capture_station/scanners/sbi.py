"""MOSIP SBI 2.0 client: fingerprint scanners from any vendor over HTTP on 127.0.0.1.

    sbi://HOST:PORT[?score=40&timeout=10&retries=2&trust=PATH]   a known device port
    sbi://HOST[?...]                                             discover on ports 4501-4600

The SBI verbs are HTTP methods: MOSIPDISC /device (discovery), MOSIPDINFO /info (device
info) and RCAPTURE /capture (registration capture with a requested score and timeout). Every
capture record comes back as a signed JWS whose payload holds the image, the device's
quality score and the transaction; its `hash` chains it to the previous record of the session
(format: lebong_contract.sbi_record). The chain links the records the station keeps: a
retry chains to the last kept record, and the best of a finger's attempts becomes the link
the next finger chains to, so the verifier sees an unbroken chain of what it was sent.

This client verifies the signature of every record with the device's key, which must be
listed in a trust file (only a development station, `open_scanner(..., dev=True)`, may take
the key the device presents on first contact), and the hash chain, and refuses a record that
fails either: a record that fails is forged, altered or replayed, and is never sent on. Each
kept record travels on with its image, so the verifier checks it again. One finger is
captured per request.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from capture_station.errors import ScannerError
from capture_station.scanners.base import FINGER_NAMES, FingerprintCapture
from lebong_contract import sbi_record
from lebong_contract.errors import InvalidInput
from lebong_contract.sbi_record import (BIO_SUBTYPES, GENESIS_HASH, SbiCaptureRecord,
                                        chain_hash, record_image, transaction_prefix)

log = logging.getLogger(__name__)

SBI_PORTS = range(4501, 4601)
SPEC_VERSION = "1.0"

# Error codes in SBI responses (MOSIP uses 0 for success and numbered codes per failure).
ERROR_NONE = "0"
ERROR_BUSY = "703"
ERROR_TIMEOUT = "701"
ERROR_BAD_REQUEST = "101"


class SbiError(ScannerError):
    """The device answered with an error, or not in SBI terms."""


class SbiTimeout(SbiError):
    """No capture within the requested timeout (the device said so, or did not answer)."""


class SbiDeviceBusy(SbiError):
    """Another client is capturing on the device."""


class SbiRecordRefused(SbiError):
    """A capture record failed its signature or hash-chain check and was not used."""


# -- the record format (lebong_contract.sbi_record), in the station's errors -----------


def verify_jws(token: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """The payload of a JWS signed by `key`; SbiRecordRefused when it is not."""
    try:
        return sbi_record.verify_jws(token, key)
    except InvalidInput as exc:
        raise SbiRecordRefused(exc.message) from None


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        return sbi_record.public_key_from_text(text)
    except InvalidInput as exc:
        raise SbiError(exc.message) from None


def read_trust_file(path: Path) -> frozenset[str]:
    """The device keys a trust file lists (the verifier's `[fingerprint] device_trust_file`
    takes the same file)."""
    try:
        return sbi_record.read_trust_file(path)
    except InvalidInput as exc:
        raise ScannerError(exc.message) from None


# -- client ------------------------------------------------------------------------------------


def sbi_request(host: str, port: int, method: str, path: str, body: Mapping[str, Any],
                timeout_s: float) -> Any:
    """One SBI call; the parsed JSON answer."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request(method, path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
    except (socket.timeout, TimeoutError):
        raise SbiTimeout(f"SBI device {host}:{port} did not answer {method} within "
                         f"{timeout_s:.1f} s") from None
    except OSError as exc:
        raise SbiError(f"SBI device {host}:{port} unreachable: {exc}") from None
    finally:
        conn.close()
    if response.status != 200:
        raise SbiError(f"SBI device {host}:{port} answered {method} with HTTP {response.status}")
    try:
        return json.loads(data)
    except ValueError:
        raise SbiError(f"SBI device {host}:{port} answered {method} with non-JSON") from None


def _check_error(entry: Mapping[str, Any], what: str) -> None:
    error = entry.get("error") or {}
    code = str(error.get("errorCode", ERROR_NONE))
    if code == ERROR_NONE:
        return
    info = str(error.get("errorInfo", ""))
    kind = {ERROR_TIMEOUT: SbiTimeout, ERROR_BUSY: SbiDeviceBusy}.get(code, SbiError)
    raise kind(f"{what}: device error {code} {info}".strip())


@dataclass(frozen=True)
class DeviceInfo:
    port: int
    device_id: str
    status: str  # "Ready", "Busy", "Not Ready"
    public_key: str  # base64 Ed25519
    make_model: str


def discover(host: str = "127.0.0.1", ports: Sequence[int] = SBI_PORTS,
             timeout_s: float = 0.5) -> list[DeviceInfo]:
    """Fingerprint devices answering MOSIPDISC on `ports` (closed ports are skipped fast)."""
    found = []
    for port in ports:
        try:
            answer = sbi_request(host, port, "MOSIPDISC", "/device", {"type": "Finger"},
                                 timeout_s)
        except SbiError:
            continue
        for device in answer if isinstance(answer, list) else []:
            if device.get("error", {}).get("errorCode", ERROR_NONE) == ERROR_NONE:
                found.append(_device_info(port, device))
    return found


def _device_info(port: int, device: Mapping[str, Any]) -> DeviceInfo:
    return DeviceInfo(port=port, device_id=str(device.get("deviceId", "")),
                      status=str(device.get("deviceStatus", "")),
                      public_key=str(device.get("publicKey", "")),
                      make_model=str(device.get("makeModel", "")))


@dataclass(frozen=True)
class CaptureAttempt:
    """What the device reported for one finger: for live feedback and the session report."""

    position: int
    quality_score: float
    requested_score: float
    attempts: int


class SbiScanner:
    """A `FingerprintScanner` over one SBI 2.0 device: one RCAPTURE per finger, retried until
    the device's quality score reaches `requested_score` or `retries` run out, keeping the
    best record."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *,
                 positions: Sequence[int] = tuple(range(1, 11)),
                 exceptions: Sequence[int] = (), requested_score: float = 40.0,
                 timeout_s: float = 10.0, retries: int = 2,
                 trusted_keys: Collection[str] | None = None,
                 answer_grace_s: float = 2.0, session_id: str = "") -> None:
        """`trusted_keys`: the device keys (base64) a trust file lists; None takes the key the
        device presents (development only: `open_sbi` refuses it outside dev mode).
        `session_id`: the client session the captures are for; it begins every transaction
        id, so the signed records name their session (the verifier checks it)."""
        unknown = [p for p in (*positions, *exceptions) if p not in FINGER_NAMES]
        if unknown:
            raise ScannerError(f"finger positions must be 1-10, got {unknown}")
        if port is None:
            devices = discover(host)
            if not devices:
                raise SbiError(f"no SBI fingerprint device answers on {host} ports "
                               f"{SBI_PORTS.start}-{SBI_PORTS.stop - 1}")
            port = devices[0].port
        self.host, self.port = host, port
        self.positions = tuple(p for p in positions if p not in set(exceptions))
        self.exceptions = tuple(exceptions)
        self.requested_score = requested_score
        self.timeout_s = timeout_s
        self.retries = retries
        self._grace_s = answer_grace_s
        self.device = self._info()
        self._key = public_key_from_text(self.device.public_key)
        self.public_key = sbi_record.public_key_text(self._key)
        if trusted_keys is None:
            log.warning("SBI device %s: no trust file (development mode), trusting the key it "
                        "presents", self.device.device_id)
        elif self.public_key not in trusted_keys:
            raise SbiRecordRefused(
                f"SBI device {self.device.device_id} presents a key that is not in the trust "
                "file: a different or replaced device")
        self.scanner_id = f"sbi:{self.device.device_id}@{host}:{port}"
        self._transaction_prefix = transaction_prefix(session_id) if session_id else ""
        # The last kept record: every attempt chains to it (see the module doc).
        self._previous_hash = GENESIS_HASH
        self.attempts: list[CaptureAttempt] = []

    def _info(self) -> DeviceInfo:
        answer = sbi_request(self.host, self.port, "MOSIPDINFO", "/info", {}, self._grace_s + 3)
        entries = answer if isinstance(answer, list) else []
        if not entries:
            raise SbiError(f"SBI device {self.host}:{self.port} returned no device info")
        _check_error(entries[0], "device info")
        return _device_info(self.port, entries[0].get("deviceInfo") or {})

    def capture(self, position: int) -> tuple[FingerprintCapture, float]:
        """One RCAPTURE of `position`; the verified image and the device's quality score."""
        transaction = f"{self._transaction_prefix}{uuid.uuid4()}"
        request = {
            "env": "Staging", "purpose": "Registration", "specVersion": SPEC_VERSION,
            "timeout": int(self.timeout_s * 1000), "transactionId": transaction,
            "captureTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bio": [{"type": "Finger", "count": 1, "bioSubType": [BIO_SUBTYPES[position]],
                     "exception": [BIO_SUBTYPES[p] for p in self.exceptions],
                     "requestedScore": self.requested_score,
                     "deviceId": self.device.device_id, "deviceSubId": 1,
                     "previousHash": self._previous_hash}],
        }
        answer = sbi_request(self.host, self.port, "RCAPTURE", "/capture", request,
                             self.timeout_s + self._grace_s)
        records = answer.get("biometrics") if isinstance(answer, dict) else None
        if not records:
            raise SbiError(f"RCAPTURE of {FINGER_NAMES[position]} returned no record")
        record = records[0]
        _check_error(record, f"capture of {FINGER_NAMES[position]}")
        payload = verify_jws(str(record.get("data", "")), self._key)
        try:
            image = record_image(payload)
        except InvalidInput as exc:
            raise SbiRecordRefused(exc.message) from None
        if payload.get("transactionId") != transaction:
            raise SbiRecordRefused("capture record belongs to another transaction (replayed)")
        if payload.get("bioSubType") != BIO_SUBTYPES[position]:
            raise SbiRecordRefused(f"capture record is for {payload.get('bioSubType')!r}, "
                                   f"requested {BIO_SUBTYPES[position]!r}")
        expected = chain_hash(self._previous_hash, image)
        if record.get("hash") != expected:
            raise SbiRecordRefused("capture record breaks the session's hash chain: a record "
                                   "was dropped, reordered or altered")
        return (FingerprintCapture(position=position, image=image,
                                   ppi=int(payload.get("ppi", 500)),
                                   scanner_id=self.scanner_id,
                                   sbi_record=SbiCaptureRecord(
                                       jws=str(record["data"]), hash=expected,
                                       previous_hash=self._previous_hash,
                                       device_public_key=self.public_key)),
                float(payload.get("qualityScore", 0)))

    def best_capture(self, position: int) -> FingerprintCapture:
        """Capture until the requested score or the retries run out; the best record, which
        the next finger's records chain to."""
        best: tuple[float, FingerprintCapture] | None = None
        for attempt in range(1, self.retries + 2):  # noqa: B007 - reported after the loop
            capture, score = self.capture(position)
            if best is None or score > best[0]:
                best = (score, capture)
            if score >= self.requested_score:
                break
        assert best is not None and best[1].sbi_record is not None
        self._previous_hash = best[1].sbi_record.hash
        self.attempts.append(CaptureAttempt(position=position, quality_score=best[0],
                                            requested_score=self.requested_score,
                                            attempts=attempt))
        log.info("SBI %s: %s quality %.0f after %d attempt(s)", self.device.device_id,
                 FINGER_NAMES[position], best[0], attempt)
        return best[1]

    def captures(self) -> Iterator[FingerprintCapture]:
        for position in self.positions:
            yield self.best_capture(position)

    def close(self) -> None:
        """Nothing held between calls; present for the protocol."""


def open_sbi(uri: str, *, positions: Sequence[int] = tuple(range(1, 11)),
             exceptions: Sequence[int] = (), dev: bool = False, session_id: str = ""
             ) -> SbiScanner:
    """`sbi://HOST[:PORT][?score=40&timeout=10&retries=2&trust=PATH]`. Without `trust` a
    device is refused unless `dev` (a development station): an unlisted device could be any
    program on the counter PC answering on an SBI port."""
    parts = urlsplit(uri)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    known = {"score", "timeout", "retries", "trust"}
    if unknown := sorted(set(options) - known):
        raise ScannerError(f"{uri}: unknown option(s) {', '.join(unknown)}; known: "
                           + ", ".join(sorted(known)))
    try:
        port = parts.port
        score = float(options.get("score", 40))
        timeout_s = float(options.get("timeout", 10))
        retries = int(options.get("retries", 2))
    except ValueError as exc:
        raise ScannerError(f"{uri}: {exc}") from None
    if "trust" in options:
        trusted: frozenset[str] | None = read_trust_file(Path(options["trust"]))
    elif dev:
        trusted = None
    else:
        raise ScannerError(f"{uri}: no trust file: add ?trust=KEYFILE listing the device's "
                           "key (`capture-station sbi-sim --trust-file` writes one for the "
                           "simulator), or run a development station with --dev")
    return SbiScanner(parts.hostname or "127.0.0.1", port, positions=positions,
                      exceptions=exceptions, requested_score=score, timeout_s=timeout_s,
                      retries=retries, trusted_keys=trusted, session_id=session_id)
