"""Fingers the officer declares uncapturable (missing, amputated, bandaged, unusable), from
the command line `--finger-exception POSITION=REASON[:note]`, sent to the verifier as
FingerprintException messages and told to an SBI device so it does not wait for them."""

from __future__ import annotations

from dataclasses import dataclass

from capture_station.errors import ScannerError, UnknownFingerName
from capture_station.scanners.folder import finger_position_from_name
from lebong_contract.api.v1 import capture_pb2

REASONS: dict[str, int] = {
    "missing": capture_pb2.FINGERPRINT_EXCEPTION_REASON_MISSING,
    "amputated": capture_pb2.FINGERPRINT_EXCEPTION_REASON_AMPUTATED,
    "bandaged": capture_pb2.FINGERPRINT_EXCEPTION_REASON_BANDAGED,
    "unusable": capture_pb2.FINGERPRINT_EXCEPTION_REASON_UNUSABLE,
}


@dataclass(frozen=True)
class FingerException:
    position: int  # ISO/IEC 19794-4, 1..10
    reason: str  # a key of REASONS
    officer_note: str = ""

    def to_message(self) -> capture_pb2.FingerprintException:
        return capture_pb2.FingerprintException(position=self.position,
                                                reason=REASONS[self.reason],
                                                officer_note=self.officer_note)


def parse_finger_exception(text: str) -> FingerException:
    """`2=bandaged:cut while farming` or `right_index=amputated`."""
    finger, sep, rest = text.partition("=")
    reason, _, note = rest.partition(":")
    reason = reason.strip().lower()
    if not sep or not finger.strip():
        raise ScannerError(f"finger exception {text!r}: expected POSITION=REASON[:note]")
    try:
        position = finger_position_from_name(finger.strip())
    except UnknownFingerName as exc:
        raise ScannerError(f"finger exception {text!r}: {exc}") from None
    if reason not in REASONS:
        raise ScannerError(f"finger exception {text!r}: reason must be one of "
                           + ", ".join(REASONS))
    return FingerException(position=position, reason=reason, officer_note=note.strip())
