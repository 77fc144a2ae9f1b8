"""The verifier's gRPC server: start-up, model loading behind health, graceful shutdown.

Health is NOT_SERVING until every model in the registry is verified and loaded, SERVING
after, NOT_SERVING while the case store does not answer (checked every `[server]
health_store_check_s`), and NOT_SERVING for good as soon as a graceful shutdown begins.

With `[server] tls_cert_file`, `tls_key_file` and `client_ca_file` the port speaks mutual
TLS only: a client without a certificate from the client CA fails the handshake, a revoked
one is refused by `ClientCertificateCheck`. Without them the server listens in plain text,
which `listen_credentials` allows on loopback only unless told `insecure`. `[server]
health_listen` adds a plain-text port answering grpc.health.v1 alone, the same statuses, for
probes that present no client certificate (Kubernetes').

Limits (`verifier.server.limits`, defaults in `ServerConfig` and `PrecheckConfig`) bound open
capture streams, each client's rate of session opens and photo pre-checks, idle streams and
connections, and PrecheckService's share of the analysis threads.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import text

from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, precheck_pb2, precheck_pb2_grpc
from verifier.cases.store import CaseStore
from verifier.config import Config
from lebong_contract.errors import ModelIntegrityError
from verifier.face.matching import face_matcher
from verifier.models import load_models
from verifier.pki.revocation import RevocationList
from verifier.server.capture_servicer import CaptureServicer
from verifier.server.client_auth import ClientCertificateCheck
from verifier.server.limits import SessionStreamLimits, transport_options
from verifier.server.precheck_servicer import PrecheckServicer
from verifier.server.runtime import Runtime

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    capture_pb2.DESCRIPTOR.services_by_name["CaptureService"].full_name,
    precheck_pb2.DESCRIPTOR.services_by_name["PrecheckService"].full_name,
)


def _is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


def _read(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"[server] {key} {path}: {exc.strerror or exc}") from None


def listen_credentials(config: Config, listen: str, insecure: bool = False
                       ) -> grpc.ServerCredentials | None:
    """Mutual-TLS credentials, or None for plain text, which is refused off loopback unless
    `insecure`: faces, fingerprints and NIKs must not cross a network in the clear."""
    s = config.server
    given = {"tls_cert_file": s.tls_cert_file, "tls_key_file": s.tls_key_file,
             "client_ca_file": s.client_ca_file}
    if any(given.values()):
        missing = [key for key, value in given.items() if not value]
        if missing:
            raise ValueError(f"mutual TLS needs [server] tls_cert_file, tls_key_file and "
                             f"client_ca_file together; missing {', '.join(missing)}")
        return grpc.ssl_server_credentials(
            [(_read(s.tls_key_file, "tls_key_file"), _read(s.tls_cert_file, "tls_cert_file"))],
            root_certificates=_read(s.client_ca_file, "client_ca_file"),
            require_client_auth=True)
    if _is_loopback(listen):
        return None
    if not insecure:
        raise ValueError(f"refusing to listen on {listen} without TLS: set [server] "
                         "tls_cert_file, tls_key_file and client_ca_file (see `verifier pki`), "
                         "or pass --insecure to send personal data in plain text")
    log.warning("INSECURE: listening on %s in PLAIN TEXT; faces, fingerprints and NIKs "
                "cross the network unencrypted and any client can connect", listen)
    return None


def _interceptors(config: Config) -> list[grpc.aio.ServerInterceptor]:
    """Revoked certificates first (they are refused before counting against any limit)."""
    s = config.server
    limits = SessionStreamLimits(s)
    if not s.crl_file:
        return [limits]
    if not s.client_ca_file:
        raise ValueError("[server] crl_file is set but client_ca_file (mutual TLS) is not")
    try:
        revocations = RevocationList(Path(s.crl_file), Path(s.client_ca_file))
    except OSError as exc:
        raise ValueError(f"[server] crl_file {s.crl_file}: {exc.strerror or exc}") from None
    return [ClientCertificateCheck(revocations), limits]


class VerifierServer:
    def __init__(self, config: Config, store: CaseStore) -> None:
        self.config = config
        self.runtime = Runtime(config=config, store=store)
        limit = config.server.max_message_bytes
        self.server = grpc.aio.server(interceptors=_interceptors(config), options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            *transport_options(config.server),
        ])
        self.health = health.aio.HealthServicer()
        capture_pb2_grpc.add_CaptureServiceServicer_to_server(CaptureServicer(self.runtime), self.server)
        precheck_pb2_grpc.add_PrecheckServiceServicer_to_server(PrecheckServicer(self.runtime), self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        self.port = 0
        self.health_server: grpc.aio.Server | None = None  # [server] health_listen
        self._store_watch: asyncio.Task[None] | None = None

    async def _set_health(self, status: int) -> None:
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status)

    async def start(self, listen: str, insecure: bool = False) -> int:
        """Bind and start answering (NOT_SERVING until `load_models` finishes)."""
        credentials = listen_credentials(self.config, listen, insecure)
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        if credentials is None:
            self.port = self.server.add_insecure_port(listen)
        else:
            self.port = self.server.add_secure_port(listen, credentials)
        if self.port == 0:
            raise OSError(f"cannot listen on {listen}")
        await self.server.start()
        log.info("verifier listening on %s (port %d, %s)", listen, self.port,
                 "plain text" if credentials is None else "mutual TLS")
        if self.config.server.health_listen:
            await self._start_health_port(self.config.server.health_listen)
        return self.port

    async def _start_health_port(self, listen: str) -> None:
        """grpc.health.v1 alone, in plain text, from the same servicer as the main port (for
        probes that present no client certificate, as Kubernetes' do): a status is no secret."""
        self.health_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
        port = self.health_server.add_insecure_port(listen)
        if port == 0:
            raise OSError(f"cannot listen on {listen} ([server] health_listen)")
        await self.health_server.start()
        log.info("health alone on %s (port %d, plain text)", listen, port)

    async def load_models(self) -> None:
        """Verify and load every model; raises ModelIntegrityError (health stays NOT_SERVING)."""
        # One copy of each model that must not be shared per analysis thread.
        models = await self.runtime.run(functools.partial(
            load_models, self.config.models_registry,
            threads=self.config.server.analysis_threads, embedder=self.config.face.embedder))
        try:
            # Thresholds calibrated on another model file, or an operating point that was
            # never calibrated, must stop start-up rather than fail at each verdict.
            face_matcher(models, self.config.face)
        except ValueError as exc:
            raise ModelIntegrityError(str(exc)) from None
        self.runtime.set_models(models)
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info("models loaded; SERVING")
        self._store_watch = asyncio.create_task(self._watch_store())

    def _store_answers(self) -> None:
        with self.runtime.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    async def _watch_store(self) -> None:
        """NOT_SERVING while the store does not answer, SERVING again when it does (a load
        balancer's health check then sends stations to another replica meanwhile)."""
        period_s = self.config.server.health_store_check_s
        serving = True
        while True:
            await asyncio.sleep(period_s)
            try:
                await asyncio.wait_for(asyncio.to_thread(self._store_answers), period_s)
                answers = True
            except Exception as exc:  # any failure to reach the store means the same
                answers = False
                if serving:
                    log.error("case store unreachable (%s); health NOT_SERVING",
                              str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            if answers != serving:
                if answers:
                    log.info("case store reachable again; SERVING")
                # Ignored once a graceful shutdown began: draining stays NOT_SERVING.
                await self._set_health(health_pb2.HealthCheckResponse.SERVING if answers
                                       else health_pb2.HealthCheckResponse.NOT_SERVING)
                serving = answers

    async def stop(self, grace_s: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        if self._store_watch is not None:
            self._store_watch.cancel()
        await self.server.stop(self.config.server.grace_period_s if grace_s is None else grace_s)
        if self.health_server is not None:  # answered NOT_SERVING throughout the drain
            await self.health_server.stop(0)
        self.runtime.executor.shutdown(wait=True, cancel_futures=True)
        self.runtime.store.close()
        log.info("verifier stopped")

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def serve(config: Config, store: CaseStore, listen: str,
                stop_event: asyncio.Event, insecure: bool = False) -> int:
    """Run until `stop_event` is set; returns an exit status (2 when models fail)."""
    server = VerifierServer(config, store)
    await server.start(listen, insecure)
    try:
        await server.load_models()
    except ModelIntegrityError as exc:
        log.error("refusing to serve: %s", exc.message)
        await server.stop(0)
        return 2
    await stop_event.wait()
    log.info("shutting down gracefully (grace %.1f s)", config.server.grace_period_s)
    await server.stop()
    return 0
