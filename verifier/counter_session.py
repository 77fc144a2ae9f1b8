"""Counter sessions as plain domain code: each station message becomes one committed record
and an outcome; the gRPC servicer only translates messages to these calls and back.

A message is committed (with its analysis result or the error that rejected it) before its
outcome says `committed`, and only then is it acknowledged. (session, sequence) is the
idempotency key: a resend is answered as a duplicate and stored once.
"""

from __future__ import annotations

import logging
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
from verifier.item_analysis import ItemAnalysis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageOutcome:
    sequence: int
    committed: bool  # acknowledge it: it is in the case store (also when it was rejected)
    duplicate: bool = False
    error: VerifierError | None = None
    assessment: PhotoAssessment | None = None  # frames
    capture_accepted: bool = False
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
        case_id, resent = self._new_message(client_session_id, sequence)
        if resent is not None:
            return resent
        try:
            image = self._decode(jpeg)
        except ImageRejected as exc:
            return self._rejected(case_id, sequence, "frame", jpeg, exc)
        assessment = assess_photo(image, self.models, self.config.framing)
        duplicate, accepted = self.store.record_message(
            case_id, sequence, "frame", data=jpeg, keep_payload=False,
            result={"ready": assessment.ready,
                    "requirements": [r.to_dict() for r in assessment.requirements]},
            accept_capture=assessment.ready)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              assessment=assessment, capture_accepted=accepted)

    def _item(self, client_session_id: str, sequence: int, kind: str, subtype: str | None,
              data: bytes, input_error: InvalidInput | None,
              analyse: Callable[[DecodedImage], ItemAnalysis]) -> MessageOutcome:
        """A document or fingerprint: decode, analyse, commit with the payload kept."""
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
            case_id, sequence, kind, data=data, keep_payload=True, subtype=subtype,
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
                                                            self.models, self.config))

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
        log.info("case %s finished: %s (%d flags)", case_id, verdict.decision.value,
                 len(verdict.flags))
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              verdict=verdict)
