"""The verifier's gRPC server: start-up, model loading behind health, graceful shutdown.

Health is NOT_SERVING until every model in the registry is verified and loaded, SERVING
after, and NOT_SERVING again as soon as a graceful shutdown begins.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from verifier.api.v1 import capture_pb2, capture_pb2_grpc, precheck_pb2, precheck_pb2_grpc
from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.errors import ModelIntegrityError
from verifier.face.matching import face_matcher
from verifier.models import load_models
from verifier.server.capture_servicer import CaptureServicer
from verifier.server.precheck_servicer import PrecheckServicer
from verifier.server.runtime import Runtime

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    capture_pb2.DESCRIPTOR.services_by_name["CaptureService"].full_name,
    precheck_pb2.DESCRIPTOR.services_by_name["PrecheckService"].full_name,
)


class VerifierServer:
    def __init__(self, config: Config, store: CaseStore) -> None:
        self.config = config
        self.runtime = Runtime(config=config, store=store)
        limit = config.server.max_message_bytes
        self.server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ])
        self.health = health.aio.HealthServicer()
        capture_pb2_grpc.add_CaptureServiceServicer_to_server(CaptureServicer(self.runtime), self.server)
        precheck_pb2_grpc.add_PrecheckServiceServicer_to_server(PrecheckServicer(self.runtime), self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        self.port = 0

    async def _set_health(self, status: int) -> None:
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status)

    async def start(self, listen: str) -> int:
        """Bind and start answering (NOT_SERVING until `load_models` finishes)."""
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.port = self.server.add_insecure_port(listen)
        if self.port == 0:
            raise OSError(f"cannot listen on {listen}")
        await self.server.start()
        log.info("verifier listening on %s (port %d)", listen, self.port)
        return self.port

    async def load_models(self) -> None:
        """Verify and load every model; raises ModelIntegrityError (health stays NOT_SERVING)."""
        # One copy of each model that must not be shared per analysis thread.
        models = await self.runtime.run(functools.partial(
            load_models, self.config.models_registry,
            threads=self.config.server.analysis_threads))
        try:
            # Thresholds calibrated on another model file, or an operating point that was
            # never calibrated, must stop start-up rather than fail at each verdict.
            face_matcher(models, self.config.face)
        except ValueError as exc:
            raise ModelIntegrityError(str(exc)) from None
        self.runtime.set_models(models)
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info("models loaded; SERVING")

    async def stop(self, grace_s: float | None = None) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.config.server.grace_period_s if grace_s is None else grace_s)
        self.runtime.executor.shutdown(wait=True, cancel_futures=True)
        self.runtime.store.close()
        log.info("verifier stopped")

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def serve(config: Config, store: CaseStore, listen: str,
                stop_event: asyncio.Event) -> int:
    """Run until `stop_event` is set; returns an exit status (2 when models fail)."""
    server = VerifierServer(config, store)
    await server.start(listen)
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
