"""The analysis threads' queue, most urgent work first.

On a loaded verifier every counter's work shares a few cores. With one first-come queue a
verdict waits behind whatever other stations sent before it, mostly live frames, whose
guidance is worthless once seconds old. A station's messages are handled in order, so its
Finish also waits for its last fingers. Here a verdict (and the cheap bookkeeping messages)
goes first; then fingerprints (~0.5 s each), which a Finish follows closely; then documents
(2-5 s of OCR), which stations send first, well before their Finish; then live frames, which
a station stops offering while its window is full; then applicants' uploaded photos, which
nobody watches live. Within one urgency, first come first served. A thread never stops a
task it started: urgency orders waiting work only.
"""

from __future__ import annotations

import enum
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Urgency(enum.IntEnum):
    VERDICT = 0  # Finish, Start, declared exceptions: a person waits on them, they are cheap
    FINGERPRINT = 1
    DOCUMENT = 2
    GUIDANCE = 3  # live frames
    UPLOAD = 4  # pre-checks of uploaded photos


_STOP = object()


class PriorityExecutor:
    """A fixed pool of threads taking queued calls in `Urgency` order (the subset of
    `concurrent.futures.Executor` the runtime uses)."""

    def __init__(self, workers: int, thread_name_prefix: str) -> None:
        if workers < 1:
            raise ValueError(f"an executor needs at least 1 thread, got {workers}")
        self._queue: queue.PriorityQueue[tuple[int, int, Any, Any]] = queue.PriorityQueue()
        self._order = itertools.count()  # first come first served within one urgency
        self._shutdown = False
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"{thread_name_prefix}_{i}",
                                          daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, urgency: Urgency, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((int(urgency), next(self._order), future, (fn, args)))
        return future

    def _work(self) -> None:
        while True:
            _, _, future, call = self._queue.get()
            if future is _STOP:
                return
            if not future.set_running_or_notify_cancel():
                continue
            fn, args = call
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits it
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._lock:
            first = not self._shutdown
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        _, _, future, _ = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    future.cancel()
            # After every queued task: a stop per thread, in the last place.
            for _ in self._threads if first else ():
                self._queue.put((len(Urgency), next(self._order), _STOP, None))
        if wait:
            for thread in self._threads:
                thread.join()
