"""What the servicers share: configuration, the case store, and the models once loaded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.counter_session import CounterSessions
from verifier.errors import NotReady
from verifier.models import LoadedModels

T = TypeVar("T")


@dataclass
class Runtime:
    config: Config
    store: CaseStore
    executor: ThreadPoolExecutor
    models: LoadedModels | None = None
    _sessions: CounterSessions | None = field(default=None, repr=False)

    def set_models(self, models: LoadedModels) -> None:
        self.models = models
        self._sessions = CounterSessions(self.store, models, self.config)

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
        """Run blocking domain code (decoding, dlib, SQL) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
