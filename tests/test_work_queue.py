"""The analysis threads take waiting work most urgent first (verdicts, fingerprints,
documents, live frames, uploads), first come first served within one urgency."""

from __future__ import annotations

import threading

import pytest

from verifier.server.work_queue import PriorityExecutor, Urgency


def blocked(executor: PriorityExecutor) -> threading.Event:
    """Occupy the executor's only thread until the returned event is set."""
    release, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        release.wait(10)

    executor.submit(Urgency.VERDICT, hold)
    assert running.wait(10)
    return release


def test_waiting_work_runs_most_urgent_first() -> None:
    executor = PriorityExecutor(1, "test")
    release = blocked(executor)
    ran: list[str] = []
    futures = [executor.submit(urgency, ran.append, name) for urgency, name in (
        (Urgency.UPLOAD, "upload"), (Urgency.GUIDANCE, "frame 1"), (Urgency.GUIDANCE, "frame 2"),
        (Urgency.DOCUMENT, "KTP"), (Urgency.VERDICT, "finish"), (Urgency.FINGERPRINT, "finger"))]
    release.set()
    for future in futures:
        future.result(10)
    assert ran == ["finish", "finger", "KTP", "frame 1", "frame 2", "upload"]
    executor.shutdown()


def test_one_urgency_is_first_come_first_served() -> None:
    executor = PriorityExecutor(1, "test")
    release = blocked(executor)
    ran: list[int] = []
    futures = [executor.submit(Urgency.GUIDANCE, ran.append, i) for i in range(20)]
    release.set()
    for future in futures:
        future.result(10)
    assert ran == list(range(20))
    executor.shutdown()


def test_errors_reach_the_caller_and_the_thread_goes_on() -> None:
    executor = PriorityExecutor(1, "test")
    with pytest.raises(ZeroDivisionError):
        executor.submit(Urgency.DOCUMENT, lambda: 1 / 0).result(10)
    assert executor.submit(Urgency.DOCUMENT, lambda: 42).result(10) == 42
    executor.shutdown()


def test_shutdown_cancels_waiting_work_and_refuses_more() -> None:
    executor = PriorityExecutor(2, "test")
    release = threading.Event()
    started = threading.Barrier(3)

    def hold() -> str:
        started.wait(10)
        release.wait(10)
        return "done"

    running = [executor.submit(Urgency.VERDICT, hold) for _ in range(2)]
    started.wait(10)
    waiting = executor.submit(Urgency.GUIDANCE, lambda: "never")
    executor.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(Urgency.VERDICT, lambda: None)
    release.set()
    executor.shutdown(wait=True)
    assert [f.result(10) for f in running] == ["done", "done"]
    assert waiting.cancelled()


def test_shutdown_without_cancel_finishes_waiting_work() -> None:
    executor = PriorityExecutor(1, "test")
    release = blocked(executor)
    waiting = executor.submit(Urgency.UPLOAD, lambda: "uploaded")
    release.set()
    executor.shutdown(wait=True)
    assert waiting.result(0) == "uploaded"
