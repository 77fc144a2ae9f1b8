"""The one error hierarchy of the verifier (and of the station's checks of SBI records).

It is part of the contract because each error's `reason` goes on the wire (the
google.rpc.ErrorInfo detail the station reads). Domain code raises these;
`verifier.server.status` maps them to gRPC status codes in one place. Anything that is not
a `VerifierError` reaching a servicer is a bug: it becomes INTERNAL with a generic message and
a full server-side log.

    VerifierError                    base; carries a stable `reason` and `metadata`
    ├── InvalidInput                 INVALID_ARGUMENT: the caller sent something unusable
    │   ├── ImageRejected            the decode gate refused an image (reason says why)
    │   ├── UnknownEnumValue         an enum number this version does not know
    │   └── MalformedMessage         a required field missing or out of range
    ├── SessionStateError            FAILED_PRECONDITION: message out of order for the session
    │   ├── SequenceGap              Finish while earlier sequence numbers are missing
    │   └── ResendConflict           a resent sequence number with a different content
    ├── StoreUnavailable             UNAVAILABLE: the case store could not commit; the stream
    │                                ends so that nothing after the failed message is committed
    ├── LimitExceeded                RESOURCE_EXHAUSTED: a per-session count, the work
    │                                queue, open streams or a client's rate is over its limit
    ├── NotReady                     UNAVAILABLE: models not loaded yet, or shutting down
    ├── StreamIdle                   UNAVAILABLE: a stream sent nothing for too long and was
    │                                closed (the station reconnects and resends)
    ├── Unauthenticated              UNAUTHENTICATED: no usable client certificate (revoked)
    │                                or API key
    ├── PermissionDenied             PERMISSION_DENIED: the certificate's station may not do
    │                                this (another station's id or session)
    ├── ModelIntegrityError          start-up only: a model file missing or altered
    └── EvidenceKeyError             (verifier.cases.crypto) an evidence key is missing,
                                     malformed or does not open a stored value
"""

from __future__ import annotations

from collections.abc import Mapping


class VerifierError(Exception):
    """Base of every error the verifier raises on purpose."""

    reason: str = "VERIFIER_ERROR"

    def __init__(self, message: str, *, reason: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidInput(VerifierError):
    reason = "INVALID_INPUT"


class ImageRejected(InvalidInput):
    reason = "IMAGE_REJECTED"


class UnknownEnumValue(InvalidInput):
    reason = "UNKNOWN_ENUM_VALUE"

    def __init__(self, field: str, value: int) -> None:
        super().__init__(f"{field} has unknown value {value}",
                         metadata={"field": field, "value": str(value)})


class MalformedMessage(InvalidInput):
    reason = "MALFORMED_MESSAGE"


class SessionStateError(VerifierError):
    reason = "SESSION_STATE"


class SequenceGap(SessionStateError):
    reason = "SEQUENCE_GAP"


class ResendConflict(SessionStateError):
    reason = "RESEND_CONFLICT"


class StoreUnavailable(VerifierError):
    reason = "STORE_UNAVAILABLE"


class LimitExceeded(VerifierError):
    reason = "LIMIT_EXCEEDED"


class NotReady(VerifierError):
    reason = "NOT_READY"


class StreamIdle(VerifierError):
    reason = "STREAM_IDLE"


class Unauthenticated(VerifierError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(VerifierError):
    reason = "PERMISSION_DENIED"


class ModelIntegrityError(VerifierError):
    reason = "MODEL_INTEGRITY"
