"""Server limits: how much any one client, and all of them together, may ask of the verifier.

    transport_options    HTTP/2 streams per connection, keepalive, idle connections
    SessionStreamLimits  CaptureService Session streams: opens per client (a token bucket),
                         open streams server-wide, and closing a stream that sends nothing
    TokenBuckets         a rate per client identity (also PrecheckService's photos)
    WorkShare            a share of the analysis threads (PrecheckService's), with a bounded
                         wait, so that uploads can never take every thread from the counters

Every refusal is a LimitExceeded (RESOURCE_EXHAUSTED) whose message names the setting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from lebong_contract.api.v1 import capture_pb2
from verifier.config import ServerConfig
from lebong_contract.errors import LimitExceeded, StreamIdle, Unauthenticated
from verifier.server.client_auth import caller_identity, wrap_handler
from verifier.server.status import abort

log = logging.getLogger(__name__)

SESSION_METHOD = f"/{capture_pb2.DESCRIPTOR.services_by_name['CaptureService'].full_name}/Session"
# Buckets kept before full (idle) ones are dropped: peers' addresses must not grow memory.
_MAX_BUCKETS = 4096


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def transport_options(server: ServerConfig) -> list[tuple[str, int]]:
    return [
        ("grpc.max_concurrent_streams", server.max_concurrent_streams),
        ("grpc.keepalive_time_ms", _ms(server.keepalive_time_s)),
        ("grpc.keepalive_timeout_ms", _ms(server.keepalive_timeout_s)),
        # Ping a connection whose stream waits for the station (no data) all the same: that
        # is the connection a cut cable leaves hanging.
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.http2.min_ping_interval_without_data_ms", _ms(server.min_client_ping_interval_s)),
        ("grpc.max_connection_idle_ms", _ms(server.max_connection_idle_s)),
    ]


class TokenBuckets:
    """One token bucket per client identity: `burst` tokens, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: int, what: str, settings: str) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError(f"{settings} must be positive")
        self.rate_s = per_minute / 60.0
        self.burst = burst
        self.per_minute = per_minute
        self.what = what
        self.settings = settings
        self._buckets: dict[str, tuple[float, float]] = {}  # identity: (tokens, at)

    def take(self, identity: str) -> None:
        """Spend one token of `identity`, or raise LimitExceeded saying when to retry."""
        now = time.monotonic()
        tokens, at = self._buckets.get(identity, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_s)
        if tokens < 1.0:
            self._buckets[identity] = (tokens, now)
            retry_s = (1.0 - tokens) / self.rate_s
            raise LimitExceeded(
                f"{identity} is over its rate of {self.per_minute:g} {self.what} a minute "
                f"(burst {self.burst}; {self.settings}); retry in {retry_s:.1f} s",
                reason="RATE_LIMITED", metadata={"identity": identity,
                                                 "retry_after_s": f"{retry_s:.1f}"})
        self._buckets[identity] = (tokens - 1.0, now)
        if len(self._buckets) > _MAX_BUCKETS:
            self._buckets = {k: (t, a) for k, (t, a) in self._buckets.items()
                             if t + (now - a) * self.rate_s < self.burst}


class WorkShare:
    """At most `max_concurrent` tasks of one kind on the analysis threads, at most
    `max_waiting` more waiting; one more is refused at once. Used on the event loop;
    `release_from_thread` is how a finishing worker thread gives its place back."""

    def __init__(self, what: str, max_concurrent: int, max_waiting: int, settings: str) -> None:
        if max_concurrent < 1 or max_waiting < 0:
            raise ValueError(f"{settings} must be at least 1 and 0")
        self.what = what
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.settings = settings
        self._slots = asyncio.Semaphore(max_concurrent)
        self._waiting = 0

    async def acquire(self) -> None:
        if self._slots.locked() and self._waiting >= self.max_waiting:
            raise LimitExceeded(
                f"the verifier is busy with {self.what} ({self.max_concurrent} running, "
                f"{self._waiting} waiting; {self.settings}); retry shortly",
                reason="SHARE_FULL", metadata={"max_concurrent": str(self.max_concurrent),
                                               "max_waiting": str(self.max_waiting)})
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1

    def release(self) -> None:
        self._slots.release()

    def release_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.call_soon_threadsafe(self._slots.release)
        except RuntimeError:  # the loop is closed: the server is gone, nobody waits
            pass


async def _until_idle(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext,
                      idle_s: float) -> AsyncIterator[Any]:
    """The stream's messages; the call ends (StreamIdle) when none comes for `idle_s`.
    Only the wait for the next message counts: while the servicer works on one (a verdict
    may take seconds) it is not asking for the next."""
    it = requests.__aiter__()
    while True:
        try:
            message = await asyncio.wait_for(it.__anext__(), idle_s)
        except StopAsyncIteration:
            return
        except TimeoutError:
            log.info("closing idle stream from %s (no message for %.0f s)", context.peer(),
                     idle_s)
            await abort(context, StreamIdle(
                f"no message for {idle_s:g} s ([server] session_idle_timeout_s); stream "
                "closed, reconnect to go on", metadata={"idle_timeout_s": f"{idle_s:g}"}))
            return
        yield message


class SessionStreamLimits(grpc.aio.ServerInterceptor):
    """CaptureService Session streams: a rate of opens per client, a cap on open streams
    server-wide, and an idle timeout. Other methods pass untouched."""

    def __init__(self, server: ServerConfig) -> None:
        if server.max_session_streams < 1 or server.session_idle_timeout_s <= 0:
            raise ValueError("[server] max_session_streams and session_idle_timeout_s must "
                             "be positive")
        self.opens = TokenBuckets(server.session_opens_per_minute, server.session_open_burst,
                                  "session opens", "[server] session_opens_per_minute, "
                                  "session_open_burst")
        self.max_streams = server.max_session_streams
        self.idle_s = server.session_idle_timeout_s
        self.open_streams = 0  # only touched on the event loop

    def _admit(self, context: grpc.aio.ServicerContext) -> None:
        self.opens.take(caller_identity(context))
        if self.open_streams >= self.max_streams:
            raise LimitExceeded(
                f"the verifier already has {self.open_streams} capture streams open, its "
                f"limit ([server] max_session_streams); retry shortly",
                reason="TOO_MANY_STREAMS",
                metadata={"max_session_streams": str(self.max_streams)})

    def _limited(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def limited(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
                          ) -> AsyncIterator[Any]:
            try:
                self._admit(context)
            except (LimitExceeded, Unauthenticated) as exc:  # a proxy's unreadable certificate
                log.warning("refused a capture stream from %s: %s", context.peer(),
                            exc.message)
                await abort(context, exc)
                return
            self.open_streams += 1
            try:
                async for reply in behavior(_until_idle(requests, context, self.idle_s),
                                            context):
                    yield reply
            finally:
                self.open_streams -= 1
        return limited

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method != SESSION_METHOD:
            return handler
        return wrap_handler(handler, self._limited)
