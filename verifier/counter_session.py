"""Counter sessions as plain domain code: each station message becomes one committed record
and an outcome; the gRPC servicer only translates messages to these calls and back.

A message is committed (with its analysis result or the error that rejected it) before its
outcome says `committed`, and only then is it acknowledged. (session, sequence) is the
idempotency key: a resend is answered as a duplicate and stored once.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.case_analysis import verdict_for
from verifier.consistency.context import CaseContext
from verifier.consistency.verdict import Verdict
from verifier.documents.item import analyse_document
from verifier.fingerprint.item import analyse_fingerprint
from verifier.errors import ImageRejected, InvalidInput, SessionStateError, VerifierError
from verifier.imaging import DecodedImage, decode_image
from verifier.models import LoadedModels
from verifier.photo.assessment import PhotoAssessment, assess_photo
from verifier.photo.crop import passport_jpeg
from verifier.item_analysis import ItemAnalysis

log = logging.getLogger(__name__)

# Weight of the newest analysis time in the per-session moving average.
_ANALYSIS_TIME_WEIGHT = 0.3


@dataclass(frozen=True)
class MessageOutcome:
    sequence: int
    committed: bool  # acknowledge it: it is in the case store (also when it was rejected)
    duplicate: bool = False
    error: VerifierError | None = None
    assessment: PhotoAssessment | None = None  # frames
    capture_accepted: bool = False
    photo_jpeg: bytes | None = None  # the passport photo cut from the accepted frame
    item: ItemAnalysis | None = None  # documents and fingerprints
    verdict: Verdict | None = None


def error_record(exc: VerifierError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "reason": exc.reason, "message": exc.message,
            "metadata": exc.metadata}


class CounterSessions:
    def __init__(self, store: CaseStore, models: LoadedModels, config: Config) -> None:
        self.store = store
        self.models = models
        self.config = config
        # Consecutive ready frames per case (in memory: after a restart the applicant holds
        # still for a few more frames). The lock covers a station that reconnects while its
        # old stream still has a frame in analysis.
        self._ready_streak: dict[str, int] = {}
        self._captured: set[str] = set()
        # Per case: (monotonic start of the last frame analysis, moving average of the
        # analysis time in s).
        self._last_analysis: dict[str, tuple[float, float]] = {}
        self._streak_lock = threading.Lock()

    def _case_id(self, client_session_id: str) -> str:
        case = self.store.find_case(client_session_id)
        if case is None:
            raise SessionStateError(
                f"session {client_session_id} has not been started; send SessionStart first",
                metadata={"client_session_id": client_session_id})
        return case.case_id

    def _decode(self, data: bytes) -> DecodedImage:
        return decode_image(data, self.config.imaging)

    def start(self, client_session_id: str, sequence: int, station_id: str, officer_id: str,
              application: dict[str, Any]) -> MessageOutcome:
        _, duplicate = self.store.start_session(client_session_id, sequence, station_id,
                                                officer_id, application)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate)

    def _rejected(self, case_id: str, sequence: int, kind: str, data: bytes,
                  exc: InvalidInput, subtype: str | None = None) -> MessageOutcome:
        duplicate, _ = self.store.record_message(case_id, sequence, kind, data=data,
                                                 keep_payload=False, subtype=subtype,
                                                 error=error_record(exc))
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate, error=exc)

    def _new_message(self, client_session_id: str, sequence: int
                     ) -> tuple[str, MessageOutcome | None]:
        """The case id, and the outcome to return at once when this is a resend."""
        case_id = self._case_id(client_session_id)
        if self.store.has_message(case_id, sequence):
            return case_id, MessageOutcome(sequence=sequence, committed=True, duplicate=True)
        return case_id, None

    def frame(self, client_session_id: str, sequence: int, jpeg: bytes) -> MessageOutcome:
        """Live guidance for one camera frame. After `steady_frames` ready frames in a row
        the last one becomes the session's photo: its payload is kept and the passport
        crop is cut from it (in the result record and the outcome). On an overloaded CPU
        some frames are committed without analysis (no guidance; the streak is unchanged)."""
        case_id, resent = self._new_message(client_session_id, sequence)
        if resent is not None:
            return resent
        try:
            image = self._decode(jpeg)
        except ImageRejected as exc:
            return self._rejected(case_id, sequence, "frame", jpeg, exc)
        capture = self.config.photo.capture
        started = time.monotonic()
        with self._streak_lock:
            last = self._last_analysis.get(case_id)
        if (last is not None and last[1] * 1000 > capture.busy_analysis_ms
                and started - last[0] < 1.0 / capture.busy_max_analysed_fps):
            duplicate, _ = self.store.record_message(
                case_id, sequence, "frame", data=jpeg, keep_payload=False,
                result={"analysed": False, "reason": "busy"})
            return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate)
        assessment = assess_photo(image, self.models, self.config, "counter")
        with self._streak_lock:
            average = last[1] if last is not None else 0.0
            took = time.monotonic() - started
            average += _ANALYSIS_TIME_WEIGHT * (took - average)
            self._last_analysis[case_id] = (started, average)
            streak = self._ready_streak.get(case_id, 0) + 1 if assessment.ready else 0
            self._ready_streak[case_id] = streak
            captured = case_id in self._captured
        result: dict[str, Any] = {**assessment.to_dict(), "ready": assessment.ready,
                                  "ready_streak": streak}
        photo = None
        steady = assessment.ready and streak >= capture.steady_frames
        head = assessment.analysis.head
        if steady and not captured and head is not None:
            photo = passport_jpeg(image.rgb, head, capture)
            result["passport_photo_jpeg_base64"] = base64.b64encode(photo).decode("ascii")
        duplicate, accepted = self.store.record_message(
            case_id, sequence, "frame", data=jpeg, keep_payload=False, result=result,
            accept_capture=photo is not None)
        if photo is not None:
            with self._streak_lock:
                self._captured.add(case_id)  # accepted now, or before a restart
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              assessment=assessment, capture_accepted=accepted,
                              photo_jpeg=photo if accepted else None)

    def _item(self, client_session_id: str, sequence: int, kind: str, subtype: str | None,
              data: bytes, input_error: InvalidInput | None,
              analyse: Callable[[DecodedImage], ItemAnalysis],
              keep_payload: bool = True) -> MessageOutcome:
        """A document or fingerprint: decode, analyse, commit (with the image if kept)."""
        case_id, resent = self._new_message(client_session_id, sequence)
        if resent is not None:
            return resent
        try:
            if input_error is not None:
                raise input_error
            image = self._decode(data)
        except InvalidInput as exc:
            return self._rejected(case_id, sequence, kind, data, exc, subtype=subtype)
        analysis = analyse(image)
        duplicate, _ = self.store.record_message(
            case_id, sequence, kind, data=data, keep_payload=keep_payload, subtype=subtype,
            result=analysis.to_dict())
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              item=analysis)

    def document(self, client_session_id: str, sequence: int, kind: str | None,
                 data: bytes, kind_error: InvalidInput | None = None) -> MessageOutcome:
        """`kind` is None (with `kind_error`) when the station sent a kind we do not know."""
        return self._item(client_session_id, sequence, "document", kind, data, kind_error,
                          lambda image: analyse_document(image, str(kind), self.models,
                                                         self.config))

    def fingerprint(self, client_session_id: str, sequence: int, position: int | None,
                    ppi: int, data: bytes, position_error: InvalidInput | None = None
                    ) -> MessageOutcome:
        subtype = str(position) if position is not None else None
        return self._item(client_session_id, sequence, "fingerprint", subtype, data,
                          position_error,
                          lambda image: analyse_fingerprint(image, int(position or 0), ppi,
                                                            self.models, self.config),
                          # The ISO template in the result is what the case keeps by default.
                          keep_payload=self.config.fingerprint.keep_images)

    def fingerprint_exception(self, client_session_id: str, sequence: int, position: int,
                              reason: str, officer_note: str) -> MessageOutcome:
        """A finger the officer declares uncapturable; kept for the fingerprint rules."""
        case_id, resent = self._new_message(client_session_id, sequence)
        if resent is not None:
            return resent
        duplicate, _ = self.store.record_message(
            case_id, sequence, "fingerprint_exception", data=b"", keep_payload=False,
            subtype=str(position), result={"reason": reason, "officer_note": officer_note})
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate)

    def finish(self, client_session_id: str, sequence: int) -> MessageOutcome:
        case_id = self._case_id(client_session_id)
        stored = self.store.verdict(case_id)
        if stored is not None:
            return MessageOutcome(sequence=sequence, committed=True, duplicate=True,
                                  verdict=stored)
        verdict = verdict_for(CaseContext(contents=self.store.contents(case_id),
                                          store=self.store, models=self.models,
                                          config=self.config))
        verdict, duplicate = self.store.finish(case_id, sequence, verdict)
        # A finished case takes no more frames: drop its live-capture state, which would
        # otherwise grow with every session the server has seen.
        with self._streak_lock:
            self._ready_streak.pop(case_id, None)
            self._captured.discard(case_id)
            self._last_analysis.pop(case_id, None)
        log.info("case %s finished: %s (%d flags)", case_id, verdict.decision.value,
                 len(verdict.flags))
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              verdict=verdict)
