"""Client-side health probe: wait until a verifier reports SERVING (demo, tests, scripts)."""

from __future__ import annotations

import socket
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lebong_contract.client_tls import ClientTls


def health_status(address: str, timeout_s: float = 1.0, tls: ClientTls | None = None
                  ) -> int | None:
    """The verifier's overall health status, or None when it does not answer (a TLS
    verifier also needs `tls`: a client certificate from its client CA)."""
    try:
        with (grpc.insecure_channel(address) if tls is None
              else grpc.secure_channel(address, tls.credentials())) as ch:
            return int(health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout_s).status)
    except grpc.RpcError:
        return None


def wait_serving(address: str, timeout_s: float = 30.0, tls: ClientTls | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if health_status(address, tls=tls) == health_pb2.HealthCheckResponse.SERVING:
            return
        time.sleep(0.05)
    raise TimeoutError(f"verifier at {address} not SERVING after {timeout_s} s")


def free_port() -> int:
    """A loopback port free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
