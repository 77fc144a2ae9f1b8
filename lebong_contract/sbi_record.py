"""The MOSIP SBI 2.0 capture record on the wire, shared by the station (which checks each
record as the device returns it) and the verifier (which checks it again when the station
forwards it): compact JWS signing and verification, the session's hash chain, device keys
and trust files.

A capture record is a compact JWS (RFC 7515, alg EdDSA, RFC 8037) whose payload holds the
image (`bioValue`, base64), the finger (`bioSubType`), the device (`digitalId`) and the
transaction. Its `hash`, outside the signature as in MOSIP, chains it to the previous record:

    hash_n = hex(SHA-256(bytes(hash_{n-1}) + SHA-256(image)))   hash_0 = hex(SHA-256(b""))

The station begins each transaction id with the session id (`transaction_prefix`), so the
signed record names the session it was captured for.

Simplified from MOSIP: the device key is a bare Ed25519 key instead of an X.509 chain from a
management server. A trust file lists the device keys an office accepts: one base64 key per
line; blank lines and text after `#` are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lebong_contract.errors import InvalidInput

# ISO/IEC 19794-4 positions -> SBI bioSubType names.
BIO_SUBTYPES: dict[int, str] = {
    1: "Right Thumb", 2: "Right IndexFinger", 3: "Right MiddleFinger", 4: "Right RingFinger",
    5: "Right LittleFinger", 6: "Left Thumb", 7: "Left IndexFinger", 8: "Left MiddleFinger",
    9: "Left RingFinger", 10: "Left LittleFinger"}
POSITIONS_BY_SUBTYPE = {name: position for position, name in BIO_SUBTYPES.items()}
GENESIS_HASH = hashlib.sha256(b"").hexdigest()
# Reasons of the InvalidInput errors below (stable, for logs and evidence).
RECORD_MALFORMED = "SBI_RECORD_MALFORMED"
SIGNATURE_INVALID = "SBI_SIGNATURE_INVALID"
KEY_INVALID = "SBI_KEY_INVALID"


@dataclass(frozen=True)
class SbiCaptureRecord:
    """A capture record as the device returned it, with the key it verifies with: what the
    station forwards with each image (proto SbiCaptureRecord)."""

    jws: str  # compact JWS; its payload holds the image
    hash: str  # the record's hash-chain value
    previous_hash: str  # the value it chains to
    device_public_key: str  # base64 Ed25519


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_jws(payload: Mapping[str, Any], key: Ed25519PrivateKey) -> str:
    """Compact JWS over the JSON payload, alg EdDSA."""
    header = _b64url(json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = key.sign(f"{header}.{body}".encode("ascii"))
    return f"{header}.{body}.{_b64url(signature)}"


def verify_jws(token: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """The payload of a JWS signed by `key`. InvalidInput with reason SIGNATURE_INVALID when
    the signature does not verify, RECORD_MALFORMED when the token is not a JWS at all."""
    try:
        header_text, body_text, signature_text = token.split(".")
        header = json.loads(_unb64url(header_text))
        if not isinstance(header, dict) or header.get("alg") != "EdDSA":
            shown = header.get("alg") if isinstance(header, dict) else header
            raise InvalidInput(f"capture record signed with {shown!r}, expected EdDSA",
                               reason=RECORD_MALFORMED)
        key.verify(_unb64url(signature_text), f"{header_text}.{body_text}".encode("ascii"))
        payload = json.loads(_unb64url(body_text))
    except InvalidSignature:
        raise InvalidInput("capture record signature does not verify with the device key: "
                           "the record was altered or not made by this device",
                           reason=SIGNATURE_INVALID) from None
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        raise InvalidInput("capture record is not a well-formed JWS",
                           reason=RECORD_MALFORMED) from None
    if not isinstance(payload, dict):
        raise InvalidInput("capture record payload is not a JSON object",
                           reason=RECORD_MALFORMED)
    return payload


def record_image(payload: Mapping[str, Any]) -> bytes:
    """The image a verified record's payload carries."""
    try:
        return base64.b64decode(str(payload["bioValue"]), validate=True)
    except (KeyError, ValueError, binascii.Error):
        raise InvalidInput("capture record has no readable bioValue",
                           reason=RECORD_MALFORMED) from None


def chain_hash(previous_hash: str, image: bytes) -> str:
    """The record hash that follows `previous_hash` for `image`; InvalidInput when
    `previous_hash` is not hex."""
    try:
        previous = bytes.fromhex(previous_hash)
    except ValueError:
        raise InvalidInput("capture record's previous hash is not hex",
                           reason=RECORD_MALFORMED) from None
    return hashlib.sha256(previous + hashlib.sha256(image).digest()).hexdigest()


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput("device public key is not a base64 Ed25519 key",
                           reason=KEY_INVALID) from None


def transaction_prefix(client_session_id: str) -> str:
    """How the station's SBI transaction ids begin (capture_station.scanners.sbi): the
    session id, so a device-signed record names the session it was captured for."""
    return f"{client_session_id}/"


def parse_trust_file(text: str, where: str = "trust file") -> frozenset[str]:
    """The device keys (canonical base64) a trust file lists; InvalidInput naming the line
    of a key that is not one."""
    keys = set()
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            keys.add(public_key_text(public_key_from_text(entry)))
        except InvalidInput:
            raise InvalidInput(f"{where} line {number}: not a base64 Ed25519 key",
                               reason=KEY_INVALID) from None
    return frozenset(keys)


def read_trust_file(path: Path) -> frozenset[str]:
    """`parse_trust_file` of the file at `path`; InvalidInput when it is unreadable or empty."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read device trust file {str(path)!r}: {exc}",
                           reason=KEY_INVALID) from None
    keys = parse_trust_file(text, f"device trust file {str(path)!r}")
    if not keys:
        raise InvalidInput(f"device trust file {str(path)!r} lists no device key",
                           reason=KEY_INVALID)
    return keys
