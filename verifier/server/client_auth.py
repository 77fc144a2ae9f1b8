"""Who is calling: the client certificate behind a mutually authenticated call, or an API key.

The TLS handshake already refuses clients without a certificate from the client CA. gRPC
Python has no hook for revocation lists, so `ClientCertificateCheck` refuses revoked serials
before any handler runs; `peer_station_id` gives servicers the station id the certificate
names (behind a proxy, the one the proxy forwards), which is the only station id a session
may use; `precheck_caller` says whether a PrecheckService call comes from a station, a
precheck client or the holder of an API key.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import grpc
from cryptography import x509

from lebong_contract.errors import PermissionDenied, Unauthenticated
from verifier.pki.names import PRECHECK_URI_PREFIX, PROXY_URI_PREFIX, STATION_URI_PREFIX
from verifier.pki.revocation import RevocationList
from verifier.server.api_keys import ApiKeys
from verifier.server.status import abort

log = logging.getLogger(__name__)

API_KEY_METADATA = "x-api-key"
# Set by a TLS-terminating proxy (deploy/nginx) to the station certificate it verified.
FORWARDED_CERT_METADATA = "x-client-cert"


@dataclass(frozen=True)
class PeerCertificate:
    serial: int
    common_name: str
    station_id: str | None  # from the station URI SAN; None on any other certificate
    precheck_client: str | None  # from the precheck URI SAN; None on any other certificate
    proxy: str | None = None  # from the proxy URI SAN; None on any other certificate


def _named(uris: list[str], prefix: str) -> str | None:
    names = [u.removeprefix(prefix) for u in uris if u.startswith(prefix)]
    return names[0] if len(names) == 1 else None


def _read_certificate(pem: bytes) -> PeerCertificate:
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    try:
        uris = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    roles = {prefix: _named(uris, prefix)
             for prefix in (STATION_URI_PREFIX, PRECHECK_URI_PREFIX, PROXY_URI_PREFIX)}

    def only(prefix: str) -> str | None:
        # One role per certificate: one naming two is none of them.
        others = [name for p, name in roles.items() if p != prefix and name is not None]
        return None if others else roles[prefix]

    return PeerCertificate(serial=cert.serial_number,
                           common_name=str(names[0].value) if names else "",
                           station_id=only(STATION_URI_PREFIX),
                           precheck_client=only(PRECHECK_URI_PREFIX),
                           proxy=only(PROXY_URI_PREFIX))


def connection_certificate(context: grpc.aio.ServicerContext) -> PeerCertificate | None:
    """The certificate the TLS handshake verified (a proxy's, behind one); None on plain text."""
    pem = (context.auth_context() or {}).get("x509_pem_cert")
    return _read_certificate(pem[0]) if pem else None


def peer_certificate(context: grpc.aio.ServicerContext) -> PeerCertificate | None:
    """The verified client certificate; None on a plain-text server. Through a proxy (a
    certificate with the proxy URI SAN) it is the client certificate the proxy verified and
    forwarded in `x-client-cert` (URL-encoded PEM, nginx's $ssl_client_escaped_cert); that
    metadata from anyone else is ignored. Raises Unauthenticated when a proxy forwards
    something that is not a certificate."""
    connection = connection_certificate(context)
    if connection is None or connection.proxy is None:
        return connection
    forwarded = [value for key, value in context.invocation_metadata() or ()
                 if key == FORWARDED_CERT_METADATA]
    if not forwarded:
        return connection  # the proxy itself (its health checks)
    try:
        return _read_certificate(unquote(str(forwarded[-1])).encode())
    except ValueError:
        log.warning("refused %s: proxy %r forwarded an unreadable client certificate",
                    context.peer(), connection.proxy)
        raise Unauthenticated(f"the proxy forwarded an unreadable certificate in "
                              f"{FORWARDED_CERT_METADATA}") from None


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


def caller_identity(context: grpc.aio.ServicerContext) -> str:
    """Whom per-client limits count against: the certificate's station or precheck client
    (a station keeps its share whatever its address), else the peer's address (no port)."""
    peer = peer_certificate(context)
    if peer is not None:
        if peer.station_id is not None:
            return f"station:{peer.station_id}"
        if peer.precheck_client is not None:
            return f"precheck:{peer.precheck_client}"
        return f"certificate:{peer.serial:x}"
    return "peer:" + context.peer().rsplit(":", 1)[0]


def precheck_caller(context: grpc.aio.ServicerContext, keys: ApiKeys | None) -> str:
    """The identity of a PrecheckService caller allowed in: an API key's holder, or a station
    or precheck client by its certificate. Raises Unauthenticated without credentials or with
    an unknown key, PermissionDenied for a certificate made for something else."""
    sent = [value for key, value in context.invocation_metadata() or ()
            if key == API_KEY_METADATA]
    if sent:
        entry = keys.find(str(sent[-1])) if keys is not None else None
        if entry is None:
            log.warning("refused %s: unknown API key on %s", context.peer(), API_KEY_METADATA)
            raise Unauthenticated(f"the API key in {API_KEY_METADATA} is not valid")
        return f"key:{entry.name}"
    peer = peer_certificate(context)
    if peer is None:
        raise Unauthenticated(
            "PrecheckService needs credentials: a client certificate (`verifier pki issue "
            f"--precheck-client NAME`) or an API key in {API_KEY_METADATA} metadata "
            "(`verifier precheck-keys add NAME`)")
    if peer.station_id is None and peer.precheck_client is None:
        log.warning("refused %s: certificate %r (serial %x) is neither a station's nor a "
                    "precheck client's", context.peer(), peer.common_name, peer.serial)
        raise PermissionDenied("this certificate is neither a capture station's nor a "
                               "precheck client's", metadata={"certificate": peer.common_name})
    return caller_identity(context)


def wrap_handler(handler: grpc.RpcMethodHandler,
                 wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
                 ) -> grpc.RpcMethodHandler:
    """The same handler with its behaviour replaced by `wrap(behaviour)`."""
    kinds = (("unary_unary", grpc.unary_unary_rpc_method_handler),
             ("unary_stream", grpc.unary_stream_rpc_method_handler),
             ("stream_unary", grpc.stream_unary_rpc_method_handler),
             ("stream_stream", grpc.stream_stream_rpc_method_handler))
    for attribute, make in kinds:
        behavior = getattr(handler, attribute)
        if behavior is not None:
            return make(wrap(behavior), request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    return handler


class ClientCertificateCheck(grpc.aio.ServerInterceptor):
    """Refuses every call (any service, health included) whose certificate is revoked."""

    def __init__(self, revocations: RevocationList) -> None:
        self.revocations = revocations

    async def _check(self, context: grpc.aio.ServicerContext) -> None:
        try:
            connection = connection_certificate(context)
            if connection is None:  # the handshake requires a certificate; defence in depth
                raise Unauthenticated("a client certificate is required")
            # Behind a proxy both its own certificate and the one it forwards must be valid.
            for cert in {connection, peer_certificate(context)}:
                if cert is not None and self.revocations.is_revoked(cert.serial):
                    log.warning("refused %s: certificate %r (serial %x) is revoked",
                                context.peer(), cert.common_name, cert.serial)
                    raise Unauthenticated("this client certificate has been revoked",
                                          metadata={"serial": f"{cert.serial:x}"})
        except Unauthenticated as exc:
            await abort(context, exc)

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
        return wrap_handler(handler, self._guard)
