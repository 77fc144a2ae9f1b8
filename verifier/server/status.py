"""Domain errors to gRPC status codes, in this one place.

A `VerifierError` keeps its message and gets a google.rpc.ErrorInfo detail with its reason and
metadata. Anything else is a bug: it is logged in full here and the caller sees INTERNAL with
a generic message (no stack traces or personal data over the wire).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from lebong_contract.errors import (InvalidInput, LimitExceeded, ModelIntegrityError, NotReady,
                                    PermissionDenied, SessionStateError, StoreUnavailable,
                                    StreamIdle, Unauthenticated, VerifierError)

log = logging.getLogger(__name__)

ERROR_DOMAIN = "verifier.lebong.go.id"

_CODES: tuple[tuple[type[VerifierError], grpc.StatusCode], ...] = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (SessionStateError, grpc.StatusCode.FAILED_PRECONDITION),
    (LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (NotReady, grpc.StatusCode.UNAVAILABLE),
    (StreamIdle, grpc.StatusCode.UNAVAILABLE),
    (StoreUnavailable, grpc.StatusCode.UNAVAILABLE),
    (ModelIntegrityError, grpc.StatusCode.UNAVAILABLE),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
)


def grpc_code(exc: BaseException) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def to_rpc_status(exc: BaseException) -> status_pb2.Status:
    code = grpc_code(exc)
    if not isinstance(exc, VerifierError):
        log.error("unexpected error", exc_info=exc)
        return status_pb2.Status(code=code_pb2.INTERNAL,
                                 message="internal error; the verifier's log has the details")
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=ERROR_DOMAIN,
                                            metadata=exc.metadata))
    return status_pb2.Status(code=code.value[0], message=exc.message, details=[detail])


async def abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    status = to_rpc_status(exc)
    await context.abort(grpc_code(exc), status.message,
                        trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),))


T = TypeVar("T")


def unary_errors(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorator for unary handlers: every exception leaves through `abort`."""

    @functools.wraps(handler)
    async def wrapped(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            return await handler(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped in one place, logged when unexpected
            await abort(context, exc)
            raise AssertionError("unreachable") from None

    return wrapped
