"""What the servicers share: configuration, the case store, the models once loaded, and the
analysis threads with their bounded queue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.counter_session import CounterSessions
from verifier.errors import LimitExceeded, NotReady
from verifier.galleries.open import open_galleries
from verifier.models import LoadedModels

T = TypeVar("T")


@dataclass
class Runtime:
    config: Config
    store: CaseStore
    models: LoadedModels | None = None
    executor: ThreadPoolExecutor = field(init=False)
    _sessions: CounterSessions | None = field(default=None, repr=False)
    _pending: int = field(default=0, init=False)  # tasks submitted and not yet finished
    # `run` adds on the event loop's thread; a finishing task subtracts on its worker's.
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                          repr=False)

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=self.config.server.analysis_threads,
                                           thread_name_prefix="analysis")

    def set_models(self, models: LoadedModels) -> None:
        self.models = models
        self._sessions = CounterSessions(self.store, models, self.config,
                                         open_galleries(self.store, models,
                                                        self.config.fingerprint))

    @property
    def sessions(self) -> CounterSessions:
        if self._sessions is None:
            raise NotReady("the verifier is still loading its models; retry shortly")
        return self._sessions

    def loaded_models(self) -> LoadedModels:
        if self.models is None:
            raise NotReady("the verifier is still loading its models; retry shortly")
        return self.models

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run blocking domain code (decoding, dlib, SQL) on an analysis thread, off the event
        loop. Raises LimitExceeded (RESOURCE_EXHAUSTED) at once when every thread is busy and
        `max_queued_tasks` tasks already wait; nothing of the message is committed (the station
        still has it in its spool)."""
        server = self.config.server
        with self._pending_lock:
            if self._pending >= server.analysis_threads + server.max_queued_tasks:
                raise LimitExceeded(
                    f"the verifier is busy ({self._pending} analyses running or queued); "
                    "retry shortly", reason="WORK_QUEUE_FULL",
                    metadata={"max_queued_tasks": str(server.max_queued_tasks)})
            self._pending += 1
        try:
            future = self.executor.submit(fn, *args)
        except BaseException:  # shut down: nothing was queued
            self._task_done(None)
            raise
        future.add_done_callback(self._task_done)
        return await asyncio.wrap_future(future)

    def _task_done(self, future: Future[Any] | None) -> None:
        with self._pending_lock:
            self._pending -= 1
