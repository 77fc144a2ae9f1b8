"""The capture station's one error hierarchy.

Every error the station raises on purpose is a `CaptureStationError`, so the CLI can print its
message and choose an exit code without a traceback; anything else reaching the CLI is a bug.

    CaptureStationError                 base
    ├── CameraUnavailable               the camera source cannot be opened
    ├── ScannerError                    fingerprint scanner problems
    │   ├── UnknownScannerScheme        `open_scanner` got a URI it has no driver for
    │   └── UnknownFingerName           a folder-scanner file name names no finger position
    ├── ApplicationDataError            the application JSON is missing or invalid
    ├── DocumentError                   a `--document KIND=PATH` is invalid
    ├── MessageTooLarge                 a message exceeds the spool's size limit; never spooled
    ├── OfficerCredentialsError         the officer's password cannot be read
    ├── SpoolError                      the spool file is unusable or a session is unknown
    └── SessionError                    the gRPC session could not be completed
        ├── VerifierUnreachable         reconnect deadline passed; spool kept for `resume`
        ├── SessionRejected             the verifier refused the stream (not worth retrying)
        └── OfficerSignInRefused        the verifier refused the officer's sign-in
"""

from __future__ import annotations


class CaptureStationError(Exception):
    """Base of every error the capture station raises on purpose."""


class CameraUnavailable(CaptureStationError):
    """The camera source (device index, video file or stream URL) cannot be opened."""


class ScannerError(CaptureStationError):
    """A fingerprint scanner could not be opened or produced something unusable."""


class UnknownScannerScheme(ScannerError):
    """`open_scanner` was given a URI whose scheme has no driver."""


class UnknownFingerName(ScannerError):
    """A file name in a scanner folder does not name a finger position."""


class ApplicationDataError(CaptureStationError):
    """The application JSON is missing, malformed or has invalid fields."""


class DocumentError(CaptureStationError):
    """A document argument names an unknown kind or an unreadable file."""


class MessageTooLarge(CaptureStationError):
    """A station message is larger than the configured limit; it was not spooled.

    Refusing it locally matters: the verifier would end the stream with RESOURCE_EXHAUSTED, the
    station would resend it on the next stream, and the session would loop forever.
    """

    def __init__(self, kind: str, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            f"{kind} message is {size_bytes} bytes, over the {limit_bytes}-byte limit; "
            "it was not sent (rescan at a lower resolution or raise --max-message-mib)")
        self.kind = kind
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes


class OfficerCredentialsError(CaptureStationError):
    """No password for the officer's sign-in: the file is unreadable, or no terminal to ask."""


class SpoolError(CaptureStationError):
    """The spool database is unusable, or a session id is not in it."""


class SessionError(CaptureStationError):
    """The session with the verifier could not be completed."""


class VerifierUnreachable(SessionError):
    """No working stream to the verifier before the deadline. The spool still holds every
    unacknowledged message, so `capture-station resume` can finish the session later."""


class SessionRejected(SessionError):
    """The verifier ended the stream with a status that retrying will not fix."""


class OfficerSignInRefused(SessionError):
    """The verifier refused the officer's sign-in; `reason` is its ErrorInfo reason
    (BAD_CREDENTIALS, THROTTLED, TOTP_REQUIRED, TOTP_WRONG, TOTP_REPLAYED, ...)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
