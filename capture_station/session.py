"""One applicant visit as a resumable gRPC session with the verifier.

Structure (all on one asyncio loop):

    producer task     SessionStart (spooled at creation), camera frames, fingerprints,
                      documents, Finish. Each message is appended to the spool and then put on
                      the current stream's queue, if a stream is up.
    connection task   opens a stream, preloads its queue with everything still unacked in the
                      spool, and reads responses until the verdict; on a broken stream it cancels
                      the call, backs off, and starts over on a fresh channel and queue.
    request writer    an async generator over the stream's queue, consumed by grpc.aio.

Appending to the spool and enqueuing happen with no `await` in between, and so do reading the
spool's unacked messages and installing a new queue; on a single-threaded loop that is what
makes "every spooled message is sent exactly once per stream, in order" hold without locks.

Frames are the only thing that may be lost on purpose: they pass a rate limiter and a window of
at most `max_inflight_frames` unacknowledged frames; a frame that does not fit is dropped and
counted, so a lagging or unreachable verifier never builds a backlog of stale frames.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2

from capture_station.camera import Camera, RateLimiter, encode_jpeg
from capture_station.documents import DOCUMENT_KINDS, DocumentScan
from capture_station.errors import (
    CaptureStationError,
    DocumentError,
    MessageTooLarge,
    SessionError,
    SessionRejected,
    SpoolError,
    VerifierUnreachable,
)
from capture_station.finger_exceptions import FingerException
from capture_station.scanners.base import FingerprintCapture, FingerprintScanner
from capture_station.spool import SESSION_OPEN, Spool
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2
from lebong_contract.client_tls import ClientTls, open_channel

log = logging.getLogger(__name__)

# How often the reader wakes up to check for a stalled stream.
_TICK_S = 0.25
_MAX_RECEIVE_BYTES = 16 * 1024 * 1024

# Statuses that the same stream would get again: retrying only burns the deadline.
_FATAL_CODES = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.OUT_OF_RANGE,
})


@dataclass(frozen=True)
class SessionConfig:
    """Tunables of a session; defaults suit a counter PC on the office LAN."""

    verifier_address: str
    station_id: str = ""
    # Mutual TLS to the verifier (`verifier pki issue`); None: plain text, loopback only.
    tls: ClientTls | None = None
    officer_id: str = ""
    # From the officer's sign-in (capture_station.officer); a TLS verifier requires it.
    officer_token: str = ""
    max_fps: float = 5.0
    # Unacknowledged frames allowed on the wire; more are dropped, not queued.
    max_inflight_frames: int = 2
    jpeg_quality: int = 90
    # Stop streaming frames this long after the first frame if no capture was accepted.
    frame_timeout_s: float = 60.0
    # Give up after this long without progress (an ack or the verdict); the spool is kept.
    connect_deadline_s: float = 120.0
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 5.0
    # A stream with unacknowledged messages and no answer for this long counts as broken
    # (catches silent network cuts that TCP would notice only after minutes).
    stall_timeout_s: float = 30.0
    # After the verdict, how long to let the verifier close the stream before cancelling it.
    close_grace_s: float = 1.0


# Report ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagReport:
    rule_id: str
    severity: str  # "info" | "review" | "fail"
    message_id: str
    message_en: str
    evidence: Mapping[str, str]


@dataclass(frozen=True)
class ItemReport:
    sequence: int
    summary: str


@dataclass(frozen=True)
class ErrorReport:
    """A message the verifier rejected (`source="verifier"`, it was acked and is never resent)
    or one the station refused to spool (`source="station"`, sequence None)."""

    source: Literal["verifier", "station"]
    sequence: int | None
    code: str
    message: str


@dataclass(frozen=True)
class SessionReport:
    """What happened in one session, for the officer's log and for scripts."""

    client_session_id: str
    case_id: str
    decision: str  # "pass" | "review" | "fail" | "unspecified"
    flags: tuple[FlagReport, ...]
    guidance_count: int
    capture_accepted_sequence: int | None
    frames_sent: int
    frames_dropped: int  # in-flight window full: verifier lagging or unreachable
    frames_rate_limited: int  # over --max-fps
    fingerprints_sent: int
    documents_sent: int
    items: tuple[ItemReport, ...]
    errors: tuple[ErrorReport, ...]
    reconnects: int
    resumed: bool
    started_at_unix_ms: int
    finished_at_unix_ms: int
    duration_s: float
    time_to_capture_s: float | None  # session start to capture accepted
    time_to_verdict_s: float | None  # Finish spooled to verdict received

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=dict)


# Events ---------------------------------------------------------------------------------------

class SessionEvents:
    """Callbacks for what the verifier says; override what you need (the CLI prints them).
    A callback that raises is logged and ignored: display bugs must not break a session."""

    def on_guidance(self, guidance: capture_pb2.Guidance) -> None: ...

    def on_capture_accepted(self, accepted: capture_pb2.CaptureAccepted) -> None: ...

    def on_item_result(self, result: capture_pb2.ItemResult) -> None: ...

    def on_item_error(self, error: types_pb2.ItemError) -> None: ...

    def on_verdict(self, verdict: capture_pb2.Verdict) -> None: ...

    def on_case_progress(self, progress: capture_pb2.CaseProgress) -> None:
        """What the case still lacks, after a document, print, exception or correction."""

    def on_station_error(self, error: CaptureStationError) -> None:
        """A message the station refused to spool (e.g. too large)."""

    def on_reconnecting(self, attempt: int, delay_s: float, reason: str) -> None: ...


class _StreamBroken(Exception):
    """The stream ended or stalled before the verdict; reconnect."""


T = TypeVar("T")


def _enum_name(enum: Any, value: int, prefix: str) -> str:
    try:
        return str(enum.Name(value)).removeprefix(prefix).lower()
    except ValueError:
        return str(value)


def _item_error_code(error: types_pb2.ItemError) -> str:
    """The ErrorInfo reason when the verifier attached one, else the canonical code name."""
    for detail in error.status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.reason:
                return info.reason
    for code in grpc.StatusCode:
        if code.value[0] == error.status.code:
            return code.name
    return str(error.status.code)


def backoff_delay_s(attempt: int, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential back-off with "equal jitter": at least half the step, so a dead verifier is
    not hammered, plus a random half, so stations do not reconnect in lockstep after a
    verifier restart."""
    step = min(max_s, initial_s * (2 ** min(attempt, 30)))
    return step / 2 + rng.uniform(0, step / 2)


class StationSession:
    """Runs one session to its verdict. Use `StationSession(...)` for a new visit and
    `StationSession.resume(...)` to finish a session left in the spool."""

    def __init__(self, config: SessionConfig, spool: Spool, *,
                 application: types_pb2.ApplicationData | None = None,
                 camera: Camera | Iterable[Any] | None = None,
                 scanner: FingerprintScanner | None = None,
                 documents: Sequence[DocumentScan] = (),
                 finger_exceptions: Sequence[FingerException] = (),
                 events: SessionEvents | None = None,
                 client_session_id: str | None = None,
                 rng: random.Random | None = None,
                 interactive: bool = False) -> None:
        """`interactive`: the counter application drives the visit: documents, prints and
        finger exceptions arrive through `add_*` while the session runs, and Finish is spooled
        only when `finish()` is called."""
        self.config = config
        self.client_session_id = client_session_id or str(uuid.uuid4())
        self._spool = spool
        self._application = application
        self._camera = camera
        self._scanner = scanner
        self._documents = tuple(documents)
        self._finger_exceptions = tuple(finger_exceptions)
        self._events = events or SessionEvents()
        self._rng = rng or random.Random()
        self._resumed = False
        self._interactive = interactive
        self._finish_requested = asyncio.Event()
        self._retake_requested = asyncio.Event()  # the camera streams again (interactive)
        self._retake_sequence = 0  # answers about captures before it are stale

        self._queue: asyncio.Queue[capture_pb2.StationMessage | None] | None = None
        self._inflight_frames: set[int] = set()
        self._finish_sequence: int | None = None
        self._verdict: capture_pb2.Verdict | None = None
        self._accepted_sequence: int | None = None
        self._last_rx = 0.0  # any message from the verifier: feeds the stall watchdog
        self._last_progress = 0.0  # an ack or the verdict: feeds the give-up deadline
        self._stream_progressed = False

        self._guidance_count = 0
        self._frames_sent = 0
        self._frames_dropped = 0
        self._frames_rate_limited = 0
        self._fingerprints_sent = 0
        self._documents_sent = 0
        self._latest_documents: dict[int, int] = {}  # DocumentKind -> its latest sequence
        self._items: dict[int, ItemReport] = {}
        self._errors: list[ErrorReport] = []
        self._error_sequences: set[int] = set()
        self._reconnects = 0
        self._started_mono = 0.0
        self._started_ms = 0
        self._accepted_mono: float | None = None
        self._finish_mono: float | None = None
        self._verdict_mono: float | None = None

    @classmethod
    def resume(cls, config: SessionConfig, spool: Spool, client_session_id: str, *,
               events: SessionEvents | None = None,
               rng: random.Random | None = None) -> StationSession:
        """Finish a spooled session: resend what is unacked, add Finish if it was never
        spooled, and wait for the verdict. Nothing new is captured."""
        stored = spool.session(client_session_id)  # raises SpoolError when unknown
        if stored.state != SESSION_OPEN:
            raise SpoolError(f"session {client_session_id} already has a verdict")
        session = cls(config, spool, events=events, client_session_id=client_session_id,
                      rng=rng)
        session._resumed = True
        session._finish_sequence = stored.finish_sequence
        return session

    # Public -----------------------------------------------------------------------------------

    async def run(self) -> SessionReport:
        """Send everything, wait for the verdict, record it in the spool, return the report.

        Raises `VerifierUnreachable` (spool kept, resume later), `SessionRejected`, or any
        driver error from the camera or scanner."""
        loop = asyncio.get_running_loop()
        self._started_mono = self._last_rx = self._last_progress = loop.time()
        self._started_ms = time.time_ns() // 1_000_000
        if not self._resumed:
            self._spool.create_session(
                self.client_session_id, self.config.verifier_address,
                station_id=self.config.station_id, officer_id=self.config.officer_id,
                start=capture_pb2.StationMessage(start=capture_pb2.SessionStart(
                    station_id=self.config.station_id, officer_id=self.config.officer_id,
                    application=self._application, officer_token=self.config.officer_token)))
        producer = asyncio.create_task(self._produce(), name="station-producer")
        connection = asyncio.create_task(self._connection_loop(), name="station-connection")
        try:
            done, _ = await asyncio.wait({producer, connection},
                                         return_when=asyncio.FIRST_EXCEPTION)
            for task in (connection, producer):
                if task in done and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in (producer, connection):
                task.cancel()
            await asyncio.gather(producer, connection, return_exceptions=True)
        return self._report()

    # Interactive visits (the counter application) ---------------------------------------------
    # Call these on the session's event loop while `run()` is running, before `finish()`.

    def add_document(self, document: DocumentScan) -> int:
        """Spool and send a document scan now; its sequence number (its ItemResult's)."""
        self._check_interactive()
        sequence = self._submit(capture_pb2.StationMessage(document=capture_pb2.DocumentImage(
            kind=document.kind, image=document.image))).sequence
        self._documents_sent += 1
        return sequence

    def add_fingerprint(self, capture: FingerprintCapture) -> int:
        """Spool and send one fingerprint capture (a retry is another capture of the same
        finger: the verifier keeps every one and counts the best); its sequence number."""
        self._check_interactive()
        sequence = self._submit(capture_pb2.StationMessage(
            fingerprint=_fingerprint_message(capture))).sequence
        self._fingerprints_sent += 1
        return sequence

    def declare_finger_exception(self, declared: FingerException) -> int:
        """Spool and send a finger the officer declares uncapturable; its sequence number."""
        self._check_interactive()
        return self._submit(capture_pb2.StationMessage(
            fingerprint_exception=declared.to_message())).sequence

    def finish(self) -> None:
        """Nothing more to capture: stop the camera stream and spool Finish."""
        self._check_interactive()
        self._finish_requested.set()

    def _check_interactive(self) -> None:
        if not self._interactive:
            raise SessionError("this session takes its inputs at creation, not interactively")
        if self._finish_requested.is_set():
            raise SessionError(f"session {self.client_session_id} is finished: nothing more "
                               "can be added")

    # Producing --------------------------------------------------------------------------------

    def _submit(self, message: capture_pb2.StationMessage) -> capture_pb2.StationMessage:
        """Spool, then hand to the live stream. No await in between: see the module doc."""
        stored = self._spool.append(self.client_session_id, message)
        if self._queue is not None:
            self._queue.put_nowait(stored)
        if stored.WhichOneof("payload") == "document":
            self._latest_documents[stored.document.kind] = stored.sequence
        return stored

    def correct_field(self, document_kind: int | str, field: str, value: str, note: str = "",
                      document_sequence: int | None = None) -> int:
        """Spool and send the officer's correction of a field the verifier read from a
        document of this session (the latest of `document_kind`, a DocumentKind value or
        name such as "ktp", unless `document_sequence` names one); its sequence number. The
        verifier answers with an ItemResult holding the corrected field, or an ItemError
        naming what it refused. Call it on the session's event loop before Finish is
        spooled (SessionError after; DocumentError for an unknown kind or no such document)."""
        if self._finish_sequence is not None or self._finish_requested.is_set():
            raise SessionError(f"session {self.client_session_id} is finished: nothing more "
                               "can be corrected")
        kind = document_kind if isinstance(document_kind, int) else DOCUMENT_KINDS.get(
            document_kind.strip().lower().replace("-", "_"))
        if kind is None or kind not in DOCUMENT_KINDS.values():
            raise DocumentError(f"unknown document kind {document_kind!r}; known: "
                                + ", ".join(DOCUMENT_KINDS))
        sequence = document_sequence or self._latest_documents.get(kind)
        if sequence is None:
            name = types_pb2.DocumentKind.Name(kind).removeprefix("DOCUMENT_KIND_")
            raise DocumentError(f"no {name} document was sent in this session: nothing to "
                                "correct")
        correction = capture_pb2.FieldCorrection(
            document_kind=kind, document_sequence=sequence, field=field, value=value,
            officer_note=note)
        return self._submit(capture_pb2.StationMessage(field_correction=correction)).sequence

    def retake_photo(self, reason: str = "") -> int:
        """Spool and send a photo retake: the verifier releases the accepted photo (its case
        keeps it for audit) and the camera streams again until another is accepted; the
        sequence number. The verifier refuses it (an ItemError) once a document or finger was
        sent. Call it on the session's event loop; SessionError without an accepted photo,
        after Finish, or for a session that does not stream a camera."""
        self._check_interactive()
        if self._camera is None:
            raise SessionError("this session has no camera: there is no photo to retake")
        if self._accepted_sequence is None:
            raise SessionError("no photo has been accepted yet: nothing to retake")
        sequence = self._submit(capture_pb2.StationMessage(
            photo_retake=capture_pb2.PhotoRetake(reason=reason))).sequence
        self._accepted_sequence = None
        self._retake_sequence = sequence
        self._retake_requested.set()
        return sequence

    def _refused(self, error: MessageTooLarge) -> None:
        log.error("%s", error)
        self._errors.append(ErrorReport("station", None, "MESSAGE_TOO_LARGE", str(error)))
        self._safe(self._events.on_station_error, error)

    async def _produce(self) -> None:
        if not self._resumed:
            if self._camera is not None:
                await self._stream_frames()
            while self._interactive and await self._retake_or_finish():
                await self._stream_frames()
            # Documents before fingers, as at the counter: their reading (seconds of OCR)
            # then runs while the fingers are captured, not after Finish.
            for document in self._documents:
                try:
                    self._submit(capture_pb2.StationMessage(document=capture_pb2.DocumentImage(
                        kind=document.kind, image=document.image)))
                    self._documents_sent += 1
                except MessageTooLarge as exc:
                    self._refused(exc)
            for declared in self._finger_exceptions:
                self._submit(capture_pb2.StationMessage(
                    fingerprint_exception=declared.to_message()))
            if self._scanner is not None:
                async for capture in _iterate_in_thread(self._scanner.captures()):
                    try:
                        self._submit(capture_pb2.StationMessage(
                            fingerprint=_fingerprint_message(capture)))
                        self._fingerprints_sent += 1
                    except MessageTooLarge as exc:
                        self._refused(exc)
        if self._finish_sequence is None:
            self._finish_sequence = self._submit(
                capture_pb2.StationMessage(finish=capture_pb2.Finish())).sequence
        self._finish_mono = asyncio.get_running_loop().time()

    async def _retake_or_finish(self) -> bool:
        """Wait for the officer: True for a photo retake (stream frames again), False once
        Finish is asked for."""
        waits = {asyncio.ensure_future(self._finish_requested.wait()),
                 asyncio.ensure_future(self._retake_requested.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if self._finish_requested.is_set():
            return False
        self._retake_requested.clear()
        return True

    async def _stream_frames(self) -> None:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(self.config.max_fps)
        deadline = loop.time() + self.config.frame_timeout_s
        frames = iter(self._camera)  # type: ignore[arg-type]
        while self._accepted_sequence is None and not self._finish_requested.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.info("no capture accepted within %.0f s; continuing without one",
                         self.config.frame_timeout_s)
                return
            try:
                # The camera blocks until its next frame; keep the loop free meanwhile.
                frame = await asyncio.wait_for(asyncio.to_thread(next, frames, None), remaining)
            except TimeoutError:
                return
            if frame is None or self._accepted_sequence is not None:
                return
            if not limiter.allow():
                self._frames_rate_limited += 1
                continue
            if len(self._inflight_frames) >= self.config.max_inflight_frames:
                self._frames_dropped += 1
                continue
            jpeg = await asyncio.to_thread(encode_jpeg, frame, self.config.jpeg_quality)
            if self._accepted_sequence is not None:
                return
            try:
                stored = self._submit(capture_pb2.StationMessage(frame=capture_pb2.CameraFrame(
                    jpeg=jpeg, captured_at_unix_ms=frame.captured_at_unix_ms)))
            except MessageTooLarge as exc:
                self._frames_dropped += 1
                if not any(e.code == "MESSAGE_TOO_LARGE" for e in self._errors):
                    self._refused(exc)
                continue
            self._inflight_frames.add(stored.sequence)
            self._frames_sent += 1

    # Connection -------------------------------------------------------------------------------

    async def _connection_loop(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while self._verdict is None:
            self._stream_progressed = False
            try:
                await self._one_stream()
                return  # only returns normally with the verdict
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                details = exc.details() or ""
                if code in _FATAL_CODES or (code == grpc.StatusCode.RESOURCE_EXHAUSTED
                                            and "larger than max" in details):
                    raise SessionRejected(
                        f"verifier {self.config.verifier_address} refused session "
                        f"{self.client_session_id}: {code.name}: {details}; the spool keeps "
                        "its messages") from exc
                reason = f"{code.name}: {details}"
            except _StreamBroken as exc:
                reason = str(exc)
            if self._stream_progressed:
                attempt = 0
            # The deadline counts from the verifier's last progress (an ack or the verdict, else
            # the session start), not from any message: a verifier that answers every resend
            # with an error and no ack would otherwise keep the station retrying forever.
            remaining = self.config.connect_deadline_s - (loop.time() - self._last_progress)
            if remaining <= 0:
                raise VerifierUnreachable(
                    f"no progress with verifier {self.config.verifier_address} for "
                    f"{self.config.connect_deadline_s:.0f} s ({reason}); "
                    f"{self._spool.pending_count(self.client_session_id)} message(s) of session "
                    f"{self.client_session_id} stay in the spool: run `capture-station resume`")
            delay = min(remaining, backoff_delay_s(attempt, self.config.backoff_initial_s,
                                                   self.config.backoff_max_s, self._rng))
            attempt += 1
            self._reconnects += 1
            log.info("stream to %s broken (%s); reconnecting in %.2f s",
                        self.config.verifier_address, reason, delay)
            self._safe(self._events.on_reconnecting, attempt, delay, reason)
            await asyncio.sleep(delay)

    def _resend_backlog(self) -> list[capture_pb2.StationMessage]:
        backlog = self._spool.unacked(self.client_session_id)
        # Finish was acked but the verdict was lost with the stream: a resent Finish gets it.
        if self._finish_sequence is not None and all(
                m.sequence != self._finish_sequence for m in backlog):
            backlog.append(capture_pb2.StationMessage(
                client_session_id=self.client_session_id, sequence=self._finish_sequence,
                finish=capture_pb2.Finish()))
        return backlog

    async def _one_stream(self) -> None:
        loop = asyncio.get_running_loop()
        # A fresh channel per attempt: a channel in TRANSIENT_FAILURE would otherwise fail our
        # calls fast for its own (up to 2 min) back-off, whatever our schedule says.
        channel = open_channel(self.config.verifier_address, self.config.tls, options=[
            ("grpc.max_receive_message_length", _MAX_RECEIVE_BYTES),
            ("grpc.enable_retries", 0),
        ])
        queue: asyncio.Queue[capture_pb2.StationMessage | None] = asyncio.Queue()
        for message in self._resend_backlog():
            queue.put_nowait(message)
        self._queue = queue  # from here on, _submit feeds this stream
        call = None
        read: asyncio.Future[Any] | None = None
        stream_started = loop.time()
        try:
            call = capture_pb2_grpc.CaptureServiceStub(channel).Session(_drain(queue))
            while True:
                read = asyncio.ensure_future(call.read())
                while not read.done():
                    await asyncio.wait({read}, timeout=_TICK_S)
                    quiet_s = loop.time() - max(self._last_rx, stream_started)
                    if not read.done() and self._outstanding() and \
                            quiet_s > self.config.stall_timeout_s:
                        raise _StreamBroken(f"no answer for {quiet_s:.0f} s")
                response = read.result()
                read = None
                if response is grpc.aio.EOF:
                    raise _StreamBroken("verifier closed the stream before the verdict")
                self._handle(response)
                if self._verdict is not None:
                    queue.put_nowait(None)  # half-close: let the verifier end the call
                    try:
                        await asyncio.wait_for(call.code(), self.config.close_grace_s)
                    except (TimeoutError, grpc.aio.AioRpcError):
                        pass
                    return
        finally:
            self._queue = None
            if read is not None:
                read.cancel()
            if call is not None:
                call.cancel()
            await channel.close(grace=None)

    def _outstanding(self) -> bool:
        return self._verdict is None and (
            self._finish_sequence is not None
            or self._spool.pending_count(self.client_session_id) > 0)

    # Responses --------------------------------------------------------------------------------

    def _handle(self, message: capture_pb2.VerifierMessage) -> None:
        loop = asyncio.get_running_loop()
        self._last_rx = loop.time()
        if message.client_session_id and message.client_session_id != self.client_session_id:
            log.warning("ignoring a message for session %s", message.client_session_id)
            return
        kind = message.WhichOneof("payload")
        if kind in ("ack", "verdict", "progress"):
            self._last_progress = loop.time()
            self._stream_progressed = True
        if kind == "ack":
            self._spool.ack(self.client_session_id, message.ack.sequence)
            self._inflight_frames.discard(message.ack.sequence)
        elif kind == "guidance":
            self._guidance_count += 1
            self._safe(self._events.on_guidance, message.guidance)
        elif kind == "capture_accepted":
            if (self._accepted_sequence is None
                    and message.capture_accepted.sequence > self._retake_sequence):
                self._accepted_sequence = message.capture_accepted.sequence
                self._accepted_mono = loop.time()
                self._safe(self._events.on_capture_accepted, message.capture_accepted)
        elif kind == "item_result":
            result = message.item_result
            if result.sequence not in self._items:
                self._items[result.sequence] = ItemReport(result.sequence, result.summary)
                self._safe(self._events.on_item_result, result)
        elif kind == "progress":
            pass  # the verifier is computing the verdict: progress, counted above
        elif kind == "case_progress":
            self._safe(self._events.on_case_progress, message.case_progress)
        elif kind == "error":
            error = message.error
            if (error.sequence == self._finish_sequence
                    and _item_error_code(error) == "SEQUENCE_GAP"):
                # The verifier lacks earlier messages (a store error cut a stream short):
                # a fresh stream resends everything unacknowledged, in order, then Finish.
                raise _StreamBroken(f"verifier asks for missing messages: "
                                    f"{error.status.message}")
            if error.sequence not in self._error_sequences:
                self._error_sequences.add(error.sequence)
                self._errors.append(ErrorReport("verifier", error.sequence,
                                                _item_error_code(error), error.status.message))
                self._safe(self._events.on_item_error, error)
        elif kind == "verdict":
            if self._verdict is None:
                self._verdict = message.verdict
                self._verdict_mono = loop.time()
                self._spool.record_verdict(self.client_session_id, json_format.MessageToDict(
                    message.verdict, preserving_proto_field_name=True))
                self._safe(self._events.on_verdict, message.verdict)
        else:
            log.warning("ignoring a verifier message with payload %r", kind)

    def _safe(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("session event callback %s failed", callback)

    def _report(self) -> SessionReport:
        verdict = self._verdict or capture_pb2.Verdict()
        start = self._started_mono
        end = self._verdict_mono or start
        return SessionReport(
            client_session_id=self.client_session_id,
            case_id=verdict.case_id,
            decision=_enum_name(types_pb2.Decision, verdict.decision, "DECISION_"),
            flags=tuple(FlagReport(
                rule_id=flag.rule_id,
                severity=_enum_name(types_pb2.Severity, flag.severity, "SEVERITY_"),
                message_id=flag.message_id, message_en=flag.message_en,
                evidence=dict(sorted(flag.evidence.items()))) for flag in verdict.flags),
            guidance_count=self._guidance_count,
            capture_accepted_sequence=self._accepted_sequence,
            frames_sent=self._frames_sent,
            frames_dropped=self._frames_dropped,
            frames_rate_limited=self._frames_rate_limited,
            fingerprints_sent=self._fingerprints_sent,
            documents_sent=self._documents_sent,
            items=tuple(self._items[s] for s in sorted(self._items)),
            errors=tuple(self._errors),
            reconnects=self._reconnects,
            resumed=self._resumed,
            started_at_unix_ms=self._started_ms,
            finished_at_unix_ms=self._started_ms + int((end - start) * 1000),
            duration_s=round(end - start, 3),
            time_to_capture_s=None if self._accepted_mono is None
            else round(self._accepted_mono - start, 3),
            time_to_verdict_s=None if self._finish_mono is None or self._verdict_mono is None
            else round(self._verdict_mono - self._finish_mono, 3),
        )


def _fingerprint_message(capture: FingerprintCapture) -> capture_pb2.FingerprintImage:
    """The capture, with its signed SBI record when a device made it."""
    record = capture.sbi_record
    return capture_pb2.FingerprintImage(
        position=capture.position, image=capture.image, ppi=capture.ppi,
        scanner_id=capture.scanner_id,
        sbi_record=None if record is None else capture_pb2.SbiCaptureRecord(
            jws=record.jws, hash=record.hash, previous_hash=record.previous_hash,
            device_public_key=record.device_public_key))


async def _drain(queue: asyncio.Queue[capture_pb2.StationMessage | None],
                 ) -> AsyncIterator[capture_pb2.StationMessage]:
    """The request stream: whatever the queue holds, until the None that half-closes it."""
    while (message := await queue.get()) is not None:
        yield message


async def _iterate_in_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Drive a blocking iterator (a scanner waiting for a finger) without blocking the loop."""
    sentinel = object()
    while (item := await asyncio.to_thread(next, iterator, sentinel)) is not sentinel:
        yield item  # type: ignore[misc]
