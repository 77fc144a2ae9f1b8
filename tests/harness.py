"""A real verifier for tests: in-process (a thread with its own event loop) or a subprocess
that a test can kill and restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from verifier.cases.store import CaseStore
from verifier.config import Config, load_config
from verifier.pki.authority import (CA_CERT, CRL, SERVER_CERT, SERVER_KEY, init_authority,
                                    issue_station)
from verifier.server.app import VerifierServer
from lebong_contract.probe import free_port, health_status, wait_serving

__all__ = ["NO_ATTESTATION", "InProcessVerifier", "SubprocessVerifier", "free_port",
           "health_status", "local_authority", "mutual_tls", "wait_serving"]

ROOT = Path(__file__).resolve().parents[1]
# Generated prints come from no SBI device: tests not about provenance do not require one.
NO_ATTESTATION: dict[str, Any] = {"fingerprint": {"require_device_attestation": False}}


def local_authority(folder: Path, stations: Iterable[str]) -> Path:
    """`verifier pki init` for this machine's names in `folder`, and a certificate for each
    station; returns `folder`."""
    init_authority(folder, ["localhost", "127.0.0.1"])
    for station in stations:
        issue_station(folder, station)
    return folder


def mutual_tls(pki: Path) -> dict[str, str]:
    """The `[server]` settings for mutual TLS with the authority `verifier pki init` made in
    `pki` (its server certificate, client CA and revocation list)."""
    return {"tls_cert_file": str(pki / SERVER_CERT), "tls_key_file": str(pki / SERVER_KEY),
            "client_ca_file": str(pki / CA_CERT), "crl_file": str(pki / CRL)}


class InProcessVerifier:
    def __init__(self, db_url: str, config: Config | None = None, load: bool = True) -> None:
        self.config = config or load_config(store={"url": db_url}, **NO_ATTESTATION)
        self.store = CaseStore(db_url)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(self._create())
        port = self.call(self.server.start("127.0.0.1:0"))
        self.address = f"127.0.0.1:{port}"
        if load:
            self.load_models()

    async def _create(self) -> VerifierServer:
        # grpc.aio objects bind to the loop that is running when they are made.
        return VerifierServer(self.config, self.store)

    def call(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def load_models(self) -> None:
        self.call(self.server.load_models())

    def stop(self) -> None:
        self.call(self.server.stop(0.5))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class SubprocessVerifier:
    """`verifier serve` as its own process, on a fixed port and database, restartable."""

    def __init__(self, db_path: Path, port: int | None = None, log_path: Path | None = None) -> None:
        self.db_path = db_path
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path or db_path.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "verifier.cli", "serve", "--listen", self.address,
             "--db", str(self.db_path)], cwd=ROOT, stdout=log, stderr=log, env=env)
        wait_serving(self.address)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a power cut."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)
