"""What the servicers share: configuration, the case store, the models once loaded, and the
analysis threads with their bounded queue and PrecheckService's share of them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.counter_session import CounterSessions
from lebong_contract.errors import LimitExceeded, NotReady
from verifier.galleries.open import open_galleries
from verifier.models import LoadedModels
from verifier.server.limits import WorkShare
from verifier.server.work_queue import PriorityExecutor, Urgency

T = TypeVar("T")


@dataclass
class Runtime:
    config: Config
    store: CaseStore
    models: LoadedModels | None = None
    executor: PriorityExecutor = field(init=False)
    precheck_share: WorkShare = field(init=False)
    _sessions: CounterSessions | None = field(default=None, repr=False)
    _pending: int = field(default=0, init=False)  # tasks submitted and not yet finished
    # `run` adds on the event loop's thread; a finishing task subtracts on its worker's.
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                          repr=False)

    def __post_init__(self) -> None:
        p = self.config.precheck
        threads = self.config.server.analysis_threads
        if threads > 1 and p.max_concurrent >= threads:
            raise ValueError(f"[precheck] max_concurrent ({p.max_concurrent}) must be below "
                             f"[server] analysis_threads ({threads}): pre-checks would be "
                             "able to take every thread from the counters")
        self.precheck_share = WorkShare("photo pre-checks", p.max_concurrent, p.max_waiting,
                                        "[precheck] max_concurrent, max_waiting")
        self.executor = PriorityExecutor(threads, thread_name_prefix="analysis")

    def set_models(self, models: LoadedModels) -> None:
        self.models = models
        self._sessions = CounterSessions(self.store, models, self.config,
                                         open_galleries(self.store, models, self.config))

    @property
    def sessions(self) -> CounterSessions:
        if self._sessions is None:
            raise NotReady("the verifier is still loading its models; retry shortly")
        return self._sessions

    def loaded_models(self) -> LoadedModels:
        if self.models is None:
            raise NotReady("the verifier is still loading its models; retry shortly")
        return self.models

    async def run(self, fn: Callable[..., T], *args: object,
                  share: WorkShare | None = None, urgency: Urgency = Urgency.VERDICT) -> T:
        """Run blocking domain code (decoding, dlib, SQL) on an analysis thread, off the event
        loop; waiting work is taken in `urgency` order (verifier.server.work_queue). Raises
        LimitExceeded (RESOURCE_EXHAUSTED) at once when every thread is busy and
        `max_queued_tasks` tasks already wait; nothing of the message is committed (the station
        still has it in its spool). With a `share`, the task first waits for a place in it
        and keeps that place until the thread is done, even if the caller gives up."""
        if share is not None:
            await share.acquire()
        server = self.config.server
        try:
            with self._pending_lock:
                if self._pending >= server.analysis_threads + server.max_queued_tasks:
                    raise LimitExceeded(
                        f"the verifier is busy ({self._pending} analyses running or queued, "
                        f"[server] analysis_threads {server.analysis_threads} + "
                        f"max_queued_tasks {server.max_queued_tasks}); retry shortly",
                        reason="WORK_QUEUE_FULL",
                        metadata={"max_queued_tasks": str(server.max_queued_tasks)})
                self._pending += 1
            try:
                future = self.executor.submit(urgency, fn, *args)
            except BaseException:  # shut down: nothing was queued
                self._task_done(None)
                raise
        except BaseException:
            if share is not None:
                share.release()
            raise
        future.add_done_callback(self._task_done)
        if share is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(lambda _: share.release_from_thread(loop))
        return await asyncio.wrap_future(future)

    def _task_done(self, future: Future[Any] | None) -> None:
        with self._pending_lock:
            self._pending -= 1
