"""CaptureService: one bidirectional stream per connection of a capture station, and the
officers' sign-in that opens its sessions (verifier.officer_tokens)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc, types_pb2
from verifier.consistency.verdict import counter_view
from verifier.counter_session import MessageOutcome
from lebong_contract.errors import (InvalidInput, MalformedMessage, NotReady, PermissionDenied,
                                    StoreUnavailable, Unauthenticated)
from lebong_contract.sbi_record import SbiCaptureRecord
from verifier.officer_tokens import OfficerSignIn
from verifier.server import convert
from verifier.server.client_auth import peer_station_id
from verifier.server.runtime import Runtime
from verifier.server.status import abort, to_rpc_status, unary_errors
from verifier.server.work_queue import Urgency

log = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 64
# The case store keeps sequence numbers in an SQL INTEGER (32 bits on PostgreSQL); a larger
# one failed in the driver (INTERNAL) before this check.
MAX_SEQUENCE = 2**31 - 1
# While a verdict is computed the station hears from us this often (its stall watchdog
# counts silence).
PROGRESS_INTERVAL_S = 2.0


def _error(sid: str, sequence: int, exc: BaseException) -> capture_pb2.VerifierMessage:
    return capture_pb2.VerifierMessage(
        client_session_id=sid,
        error=types_pb2.ItemError(sequence=sequence, status=to_rpc_status(exc)))


def _replies(sid: str, o: MessageOutcome) -> list[capture_pb2.VerifierMessage]:
    def msg(**kw: object) -> capture_pb2.VerifierMessage:
        return capture_pb2.VerifierMessage(client_session_id=sid, **kw)  # type: ignore[arg-type]

    out = [msg(ack=capture_pb2.Ack(sequence=o.sequence, duplicate=o.duplicate))]
    if o.error is not None:
        out.append(_error(sid, o.sequence, o.error))
    if o.assessment is not None:
        out.append(msg(guidance=convert.guidance_to_pb(o.sequence, o.assessment,
                                                       o.liveness_prompt)))
    if o.capture_accepted:
        out.append(msg(capture_accepted=capture_pb2.CaptureAccepted(
            sequence=o.sequence, photo_jpeg=o.photo_jpeg or b"")))
    if o.item is not None:
        out.append(msg(item_result=convert.item_result_to_pb(o.sequence, o.item)))
    if o.progress is not None:
        out.append(msg(case_progress=capture_pb2.CaseProgress(
            sequence=o.sequence, missing=[convert.flag_to_pb(f) for f in o.progress])))
    if o.verdict is not None:
        # The counter sees its own applicant only (verifier.consistency.verdict.counter_view).
        out.append(msg(verdict=convert.verdict_to_pb(counter_view(o.verdict))))
    return out


async def _decoded(messages: AsyncIterator[capture_pb2.StationMessage]
                   ) -> AsyncIterator[capture_pb2.StationMessage]:
    """The stream's messages; bytes that do not parse as a StationMessage end it with
    INVALID_ARGUMENT instead of an unexpected error."""
    try:
        async for message in messages:
            yield message
    except DecodeError as exc:
        raise MalformedMessage(f"the stream carried bytes that are not a StationMessage: "
                               f"{exc}") from None


def _known_enum(enum_type: Any, value: int, field: str, prefix: str
                ) -> tuple[str | None, InvalidInput | None]:
    """(name, None) for a known, specified value; (None, error) otherwise. The error is
    committed with the message, so the station is told and does not resend it."""
    try:
        name = convert.enum_name(enum_type, value, field, prefix)
    except InvalidInput as exc:
        return None, exc
    if name is None:
        return None, MalformedMessage(f"{field} is unspecified")
    return name, None


def _sbi_record(image: capture_pb2.FingerprintImage) -> SbiCaptureRecord | None:
    """The signed device record the station forwarded with a print, if any."""
    if not image.HasField("sbi_record"):
        return None
    r = image.sbi_record
    return SbiCaptureRecord(jws=r.jws, hash=r.hash, previous_hash=r.previous_hash,
                            device_public_key=r.device_public_key)


class CaptureServicer(capture_pb2_grpc.CaptureServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.officers = OfficerSignIn(runtime.store, runtime.config)

    @unary_errors
    async def SignIn(self, request: capture_pb2.SignInRequest,
                     context: grpc.aio.ServicerContext) -> capture_pb2.SignInResponse:
        station = peer_station_id(context)
        if station is None:
            raise Unauthenticated("officer sign-in needs mutual TLS: the token is bound to the "
                                  "station's certificate", reason="TLS_REQUIRED")
        signed_in = await self.runtime.run(self.officers.sign_in, request.username,
                                           request.password, request.totp_code, station)
        return capture_pb2.SignInResponse(
            officer_token=signed_in.token, officer_id=signed_in.officer_id,
            expires_at_unix_ms=int(signed_in.expires_at.timestamp() * 1000))

    def _session_station(self, client_session_id: str) -> str | None:
        case = self.runtime.store.find_case(client_session_id)
        return None if case is None else self.runtime.store.summary(case.case_id).station_id

    async def _check_station(self, m: capture_pb2.StationMessage, station: str,
                             context: grpc.aio.ServicerContext) -> None:
        """A station speaks for itself only: the station id a Start names, and the station
        an existing session belongs to, must be the one its certificate names."""
        claimed = m.start.station_id if m.WhichOneof("payload") == "start" else ""
        owner = await self.runtime.run(self._session_station, m.client_session_id)
        for other, what in ((claimed, "names station"), (owner, "belongs to station")):
            if other and other != station:
                log.warning("refused %s (certificate of station %s): session %s %s %s",
                            context.peer(), station, m.client_session_id, what, other)
                raise PermissionDenied(
                    f"this certificate is station {station}'s; session "
                    f"{m.client_session_id} {what} {other}",
                    metadata={"certificate_station": station, "claimed_station": other})

    async def Session(self, request_iterator: AsyncIterator[capture_pb2.StationMessage],
                      context: grpc.aio.ServicerContext) -> AsyncIterator[capture_pb2.VerifierMessage]:
        try:
            station = peer_station_id(context)  # None without TLS: the message's id stands
        except (PermissionDenied, Unauthenticated) as exc:
            await abort(context, exc)
            return
        checked: set[str] = set()  # sessions this stream has shown to be the station's own
        try:
            async for reply in self._answer(_decoded(request_iterator), station, checked,
                                            context):
                yield reply
        except MalformedMessage as exc:  # bytes that are no StationMessage: nothing to answer
            await abort(context, exc)

    async def _answer(self, messages: AsyncIterator[capture_pb2.StationMessage],
                      station: str | None, checked: set[str],
                      context: grpc.aio.ServicerContext
                      ) -> AsyncIterator[capture_pb2.VerifierMessage]:
        async for message in messages:
            sid, seq = message.client_session_id, message.sequence
            try:
                if station is not None and sid not in checked:
                    await self._check_station(message, station, context)
                    checked.add(sid)
                work = asyncio.ensure_future(self._handle(message, station))
                started = time.monotonic()
                while message.WhichOneof("payload") == "finish" and not work.done():
                    yield capture_pb2.VerifierMessage(
                        client_session_id=sid, progress=capture_pb2.Progress(
                            sequence=seq, stage="verdict",
                            elapsed_s=round(time.monotonic() - started, 1)))
                    await asyncio.wait({work}, timeout=PROGRESS_INTERVAL_S)
                outcome = await work
            except (NotReady, StoreUnavailable, PermissionDenied, Unauthenticated) as exc:
                # End the stream rather than answer message by message: later messages must
                # not be committed while this one is not, or the case would have a gap (and
                # a station speaking for another, or without a signed-in officer, is not
                # worth another word).
                await abort(context, exc)
                return
            except Exception as exc:  # noqa: BLE001 - one bad message must not end the stream
                yield _error(sid, seq, exc)
                continue
            for reply in _replies(sid, outcome):
                yield reply

    async def _handle(self, m: capture_pb2.StationMessage, station: str | None
                      ) -> MessageOutcome:
        sid, seq = m.client_session_id, m.sequence
        if not sid or len(sid) > MAX_SESSION_ID_CHARS:
            raise MalformedMessage(f"client_session_id must be 1-{MAX_SESSION_ID_CHARS} characters")
        if not 1 <= seq <= MAX_SEQUENCE:
            raise MalformedMessage(f"sequence must be 1-{MAX_SEQUENCE}")
        sessions = self.runtime.sessions
        run = self.runtime.run
        which = m.WhichOneof("payload")
        # A resend is byte-for-byte the spooled message; the same number with another
        # content is refused (see CaseStore.check_resend).
        digest = hashlib.sha256(m.SerializeToString(deterministic=True)).hexdigest()
        if which == "start":
            application = convert.application_from_pb(m.start.application)
            officer = m.start.officer_id  # plain text (loopback only): the message's word
            if station is not None and self.runtime.config.server.require_officer_sign_in:
                officer = await run(self.officers.officer_for_start, sid,
                                    m.start.officer_token, station)
            return await run(sessions.start, sid, seq, station or m.start.station_id,
                             officer, application, digest)
        if which == "frame":
            return await run(sessions.frame, sid, seq, m.frame.jpeg, digest,
                             m.frame.captured_at_unix_ms, urgency=Urgency.GUIDANCE)
        if which == "document":
            kind, kind_error = _known_enum(types_pb2.DocumentKind, m.document.kind,
                                           "document.kind", "DOCUMENT_KIND_")
            return await run(sessions.document, sid, seq, kind, m.document.image, kind_error,
                             digest, urgency=Urgency.DOCUMENT)
        if which == "fingerprint":
            name, position_error = _known_enum(types_pb2.FingerPosition, m.fingerprint.position,
                                               "fingerprint.position", "FINGER_POSITION_")
            position = int(m.fingerprint.position) if name is not None else None
            return await run(sessions.fingerprint, sid, seq, position, m.fingerprint.ppi,
                             m.fingerprint.image, position_error, digest,
                             _sbi_record(m.fingerprint), urgency=Urgency.FINGERPRINT)
        if which == "fingerprint_exception":
            e = m.fingerprint_exception
            name, error = _known_enum(types_pb2.FingerPosition, e.position,
                                      "fingerprint_exception.position", "FINGER_POSITION_")
            reason, reason_error = _known_enum(
                capture_pb2.FingerprintExceptionReason, e.reason,
                "fingerprint_exception.reason", "FINGERPRINT_EXCEPTION_REASON_")
            if error or reason_error:
                raise error or reason_error  # type: ignore[misc]
            return await run(sessions.fingerprint_exception, sid, seq, int(e.position),
                             str(reason), e.officer_note, digest)
        if which == "field_correction":
            c = m.field_correction
            kind, kind_error = _known_enum(types_pb2.DocumentKind, c.document_kind,
                                           "field_correction.document_kind", "DOCUMENT_KIND_")
            return await run(sessions.field_correction, sid, seq, kind, c.document_sequence,
                             c.field, c.value, c.officer_note, kind_error, digest)
        if which == "photo_retake":
            return await run(sessions.photo_retake, sid, seq, m.photo_retake.reason, digest)
        if which == "finish":
            return await run(sessions.finish, sid, seq, digest)
        raise MalformedMessage("message carries no payload (or one this version does not know)")
