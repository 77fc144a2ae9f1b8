"""Who is calling: the client certificate behind a mutually authenticated call.

The TLS handshake already refuses clients without a certificate from the client CA. gRPC
Python has no hook for revocation lists, so `ClientCertificateCheck` refuses revoked serials
before any handler runs; `peer_station_id` gives servicers the station id the certificate
names, which is the only station id a session may use.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from cryptography import x509

from verifier.errors import PermissionDenied, Unauthenticated
from verifier.pki.names import STATION_URI_PREFIX
from verifier.pki.revocation import RevocationList
from verifier.server.status import abort

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerCertificate:
    serial: int
    common_name: str
    station_id: str | None  # from the station URI SAN; None on any other certificate


def peer_certificate(context: grpc.aio.ServicerContext) -> PeerCertificate | None:
    """The verified client certificate; None on a plain-text server."""
    pem = (context.auth_context() or {}).get("x509_pem_cert")
    if not pem:
        return None
    cert = x509.load_pem_x509_certificate(pem[0])
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    try:
        uris = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    stations = [u.removeprefix(STATION_URI_PREFIX) for u in uris
                if u.startswith(STATION_URI_PREFIX)]
    return PeerCertificate(serial=cert.serial_number,
                           common_name=str(names[0].value) if names else "",
                           station_id=stations[0] if len(stations) == 1 else None)


def peer_station_id(context: grpc.aio.ServicerContext) -> str | None:
    """The calling station's id, from its certificate; None on a plain-text server.
    Raises PermissionDenied for a certificate that names no station."""
    peer = peer_certificate(context)
    if peer is None:
        return None
    if peer.station_id is None:
        log.warning("refused %s: certificate %r (serial %x) is not a station certificate",
                    context.peer(), peer.common_name, peer.serial)
        raise PermissionDenied("this certificate does not identify a capture station",
                               metadata={"certificate": peer.common_name})
    return peer.station_id


class ClientCertificateCheck(grpc.aio.ServerInterceptor):
    """Refuses every call (any service, health included) whose certificate is revoked."""

    def __init__(self, revocations: RevocationList) -> None:
        self.revocations = revocations

    async def _check(self, context: grpc.aio.ServicerContext) -> None:
        peer = peer_certificate(context)
        if peer is None:  # the handshake requires a certificate; this is defence in depth
            await abort(context, Unauthenticated("a client certificate is required"))
        elif self.revocations.is_revoked(peer.serial):
            log.warning("refused %s: certificate %r (serial %x) is revoked", context.peer(),
                        peer.common_name, peer.serial)
            await abort(context, Unauthenticated(
                "this client certificate has been revoked",
                metadata={"serial": f"{peer.serial:x}"}))

    def _guard(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        # Streaming handlers are either async generators or coroutines writing to the
        # context (grpc_health's Watch); the guard must keep the same shape.
        if inspect.isasyncgenfunction(behavior):
            async def guarded_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await self._check(context)
                async for response in behavior(request, context):
                    yield response
            return guarded_stream

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await self._check(context)
            return await behavior(request, context)
        return guarded

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        kinds = (("unary_unary", grpc.unary_unary_rpc_method_handler),
                 ("unary_stream", grpc.unary_stream_rpc_method_handler),
                 ("stream_unary", grpc.stream_unary_rpc_method_handler),
                 ("stream_stream", grpc.stream_stream_rpc_method_handler))
        for attribute, make in kinds:
            behavior = getattr(handler, attribute)
            if behavior is not None:
                return make(self._guard(behavior),
                            request_deserializer=handler.request_deserializer,
                            response_serializer=handler.response_serializer)
        return handler
