"""Counter sessions as plain domain code: each station message becomes one committed record
and an outcome; the gRPC servicer only translates messages to these calls and back.

A message is committed (with its analysis result or the error that rejected it) before its
outcome says `committed`, and only then is it acknowledged. (session, sequence) is the
idempotency key: a resend is answered as a duplicate and stored once; the same key with
another content (its digest differs) is refused. Finish is refused while an earlier sequence
number is missing, so no verdict is computed over a gap. The session's state lives in the case
store, not here: replicas sharing one database can each take any of its messages (the ready
streak and the accepted capture: verifier.live_capture; one verdict: CaseStore.finish_once).

Everything the verdict needs is computed when an item arrives (document fields, the portrait's
face, fingerprint templates, the accepted capture's face); Finish assembles `CaseEvidence`
from the stored results and runs the rules, decoding no image.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.consistency.case_evidence import (FACE_DOCUMENT_KINDS, case_evidence,
                                                finger_capture)
from verifier.consistency.case_rules import verdict_for
from verifier.consistency.completeness_rules import outstanding
from verifier.consistency.corrections import check_correction
from verifier.consistency.context import CaseContext, Galleries
from verifier.consistency.verdict import Flag, Severity, Verdict, decide
from verifier.documents.item import analyse_document
from verifier.enrolment import enrol_case
from verifier.face.evidence import NOT_FOUND, face_evidence
from verifier.face.liveness.challenge import configured_actions
from verifier.face.liveness.judge import Status as LivenessStatus
from verifier.face.liveness.measures import frame_measures
from verifier.face.liveness.session import (RESULT_KEY as LIVENESS_KEY, LivenessStep, Prompt,
                                            liveness_evidence, liveness_step)
from verifier.face.matching import face_matcher
from verifier.fingerprint.analysis import MODEL_NAME as EXTRACTOR_NAME
from verifier.fingerprint.item import analyse_fingerprint, finger_capture_template
from verifier.fingerprint.provenance import (Attribution, DeviceTrustList, Provenance,
                                             attestation_check, attribute,
                                             previous_record_hash)
from lebong_contract.sbi_record import SbiCaptureRecord
from verifier.fingerprint.session_pairs import (EarlierCapture, same_finger_check,
                                                scores_against_earlier)
from lebong_contract.errors import (ImageRejected, InvalidInput, LimitExceeded, SequenceGap,
                                    SessionStateError, VerifierError)
from verifier.imaging import DecodedImage, decode_image
from verifier.live_capture import AnalysisPace, counts_for_streak, ready_streak
from verifier.models import LoadedModels
from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.assessment import PhotoAssessment, assess_photo
from verifier.photo.crop import passport_jpeg
from verifier.photo.result import Outcome, RequirementResult
from verifier.item_analysis import ItemAnalysis, ReadField

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageOutcome:
    sequence: int
    committed: bool  # acknowledge it: it is in the case store (also when it was rejected)
    duplicate: bool = False
    error: VerifierError | None = None
    assessment: PhotoAssessment | None = None  # frames
    capture_accepted: bool = False
    photo_jpeg: bytes | None = None  # the passport photo cut from the accepted frame
    liveness_prompt: Prompt | None = None  # frames: the liveness action asked now
    item: ItemAnalysis | None = None  # documents and fingerprints
    verdict: Verdict | None = None
    # What the case still lacks (completeness rules), after items that change it; None: not
    # measured for this message.
    progress: tuple[Flag, ...] | None = None


def error_record(exc: VerifierError) -> dict[str, Any]:
    return {"type": type(exc).__name__, "reason": exc.reason, "message": exc.message,
            "metadata": exc.metadata}


def _portrait_check(found: bool) -> RequirementResult:
    """Told to the officer with the document's result, so a card whose photo cannot be
    compared is rescanned while the applicant is still at the counter."""
    return RequirementResult(
        requirement="portrait_face", outcome=Outcome.PASS if found else Outcome.FAIL,
        value=float(found), unit="faces", score=100.0 if found else 0.0, threshold=1.0,
        message_id="Wajah pada foto dokumen ditemukan" if found else
        "Wajah pada foto dokumen tidak ditemukan; pindai ulang dengan foto terlihat jelas",
        message_en="The document's photo shows a face" if found else
        "No face found on the document's photo; scan it again with the photo clearly visible")


# Which [session] setting caps each kind of message (named in the refusal).
_LIMIT_SETTING = {"frame": "max_frames", "document": "max_documents",
                  "fingerprint": "max_fingerprints", "fingerprint_exception": "max_fingerprints",
                  "field_correction": "max_corrections",
                  # Each retake releases a photo that took frames, so frames bound them too.
                  "photo_retake": "max_frames"}


class CounterSessions:
    def __init__(self, store: CaseStore, models: LoadedModels, config: Config,
                 galleries: Galleries | None = None) -> None:
        self.store = store
        self.models = models
        self.config = config
        self.galleries = galleries
        self.face_matcher = face_matcher(models, config.face)
        self.device_trust = DeviceTrustList(config.fingerprint.device_trust_file)
        # The ready streak and the accepted capture are read from the store (any replica
        # may have taken the session's earlier frames); only this replica's load is local.
        self._pace = AnalysisPace()
        if config.liveness.enabled:
            configured_actions(config.liveness)  # a challenge it cannot draw stops start-up

    def _case_id(self, client_session_id: str) -> str:
        case = self.store.find_case(client_session_id)
        if case is None:
            raise SessionStateError(
                f"session {client_session_id} has not been started; send SessionStart first",
                metadata={"client_session_id": client_session_id})
        return case.case_id

    def _progress(self, case_id: str) -> tuple[Flag, ...] | None:
        """What the case still lacks; None (logged) when that cannot be measured: the message
        is committed by then and must still be acknowledged."""
        try:
            evidence = case_evidence(self.store.contents(case_id, frames=False))
            evidence = replace(evidence, frames_received=self.store.count_messages(case_id,
                                                                                   "frame"))
            return outstanding(evidence, self.config)
        except Exception:  # noqa: BLE001 - progress is a courtesy to the officer
            log.exception("case %s: progress not measured", case_id)
            return None

    def _decode(self, data: bytes) -> DecodedImage:
        return decode_image(data, self.config.imaging)

    def start(self, client_session_id: str, sequence: int, station_id: str, officer_id: str,
              application: dict[str, Any], digest: str = "") -> MessageOutcome:
        _, duplicate = self.store.start_session(client_session_id, sequence, station_id,
                                                officer_id, application, digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate)

    def _rejected(self, case_id: str, sequence: int, kind: str, data: bytes,
                  exc: VerifierError, digest: str, subtype: str | None = None
                  ) -> MessageOutcome:
        duplicate, _ = self.store.record_message(case_id, sequence, kind, data=data,
                                                 keep_payload=False, subtype=subtype,
                                                 error=error_record(exc), digest=digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate, error=exc)

    def _new_message(self, client_session_id: str, sequence: int, digest: str, kind: str,
                     limit: int, subtype: str | None = None
                     ) -> tuple[str, MessageOutcome | None]:
        """The case id, and the outcome to return at once: for a resend, or for a message
        of `kind` beyond `limit` for its session. That one is committed as rejected, without
        its payload (a stuck or hostile station cannot fill the store, and the session keeps
        no gap that would hold back its verdict)."""
        case_id = self._case_id(client_session_id)
        if self.store.check_resend(case_id, sequence, digest):
            return case_id, MessageOutcome(sequence=sequence, committed=True, duplicate=True)
        if self.store.count_messages(case_id, kind) >= limit:
            exc = LimitExceeded(
                f"this session already holds {limit} {kind} messages, the most one session "
                f"may send ([session] {_LIMIT_SETTING[kind]}); finish it or start a new "
                "session",
                metadata={"kind": kind, "limit": str(limit)})
            return case_id, self._rejected(case_id, sequence, kind, b"", exc, digest, subtype)
        return case_id, None

    def _liveness(self, case_id: str, sequence: int, analysis: PhotoAnalysis,
                  captured_at_unix_ms: int) -> LivenessStep | None:
        """This frame's step of the liveness challenge (verifier.face.liveness); None when the
        check is off. Its state comes from the stored frames, which any replica may have
        taken."""
        settings = self.config.liveness
        if not settings.enabled:
            return None
        # The camera's time: the applicant's reaction is timed from what the camera saw,
        # not from when the network delivered it.
        at_s = captured_at_unix_ms / 1000 if captured_at_unix_ms > 0 else time.time()
        stored = liveness_evidence((m.sequence, m.result)
                                   for m in self.store.messages_of_kind(case_id, "frame")
                                   if m.sequence != sequence)
        return liveness_step(stored, frame_measures(analysis, at_s, sequence), at_s, settings)

    def frame(self, client_session_id: str, sequence: int, jpeg: bytes, digest: str = "",
              captured_at_unix_ms: int = 0) -> MessageOutcome:
        """Live guidance for one camera frame. After `steady_frames` ready frames in a row
        the last one becomes the session's photo: its payload is kept, the passport crop is
        cut from it and its face embedded (in the result record; the crop in the outcome).
        With [liveness] on, no photo is taken while a challenge action is still asked.
        On an overloaded CPU some frames are committed without analysis (no guidance; the
        streak is unchanged)."""
        case_id, resent = self._new_message(client_session_id, sequence, digest, "frame",
                                            self.config.session.max_frames)
        if resent is not None:
            return resent
        try:
            image = self._decode(jpeg)
        except ImageRejected as exc:
            return self._rejected(case_id, sequence, "frame", jpeg, exc, digest)
        capture = self.config.photo.capture
        started = time.monotonic()
        if self._pace.too_soon(case_id, started, capture.busy_analysis_ms / 1000,
                               capture.busy_max_analysed_fps):
            duplicate, _ = self.store.record_message(
                case_id, sequence, "frame", data=jpeg, keep_payload=False,
                result={"analysed": False, "reason": "busy"}, digest=digest)
            return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate)
        assessment = assess_photo(image, self.models, self.config, "counter")
        self._pace.record(case_id, started, time.monotonic() - started)
        state = self.store.live_capture(case_id, sequence, counts_for_streak)
        streak = ready_streak(state.previous_frame_result, assessment.ready)
        captured = state.capture_sequence is not None
        result: dict[str, Any] = {**assessment.to_dict(), "ready": assessment.ready,
                                  "ready_streak": streak}
        liveness = self._liveness(case_id, sequence, assessment.analysis, captured_at_unix_ms)
        if liveness is not None:
            result[LIVENESS_KEY] = liveness.record
        photo = None
        steady = (assessment.ready and streak >= capture.steady_frames
                  and (liveness is None or liveness.outcome.status is not LivenessStatus.PENDING))
        head = assessment.analysis.head
        if steady and not captured and head is not None:
            photo = passport_jpeg(image.rgb, head, capture)
            result["passport_photo_jpeg_base64"] = base64.b64encode(photo).decode("ascii")
            face = face_evidence(image.rgb, self.models, self.config.face, live=True)
            result["face"] = face.to_record() if face is not None else NOT_FOUND
        duplicate, accepted = self.store.record_message(
            case_id, sequence, "frame", data=jpeg, keep_payload=False, result=result,
            accept_capture=photo is not None, digest=digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              assessment=assessment, capture_accepted=accepted,
                              photo_jpeg=photo if accepted else None,
                              progress=self._progress(case_id) if accepted else None,
                              liveness_prompt=liveness.prompt if liveness else None)

    def _item(self, client_session_id: str, sequence: int, kind: str, subtype: str | None,
              data: bytes, input_error: InvalidInput | None,
              analyse: Callable[[DecodedImage, str], tuple[ItemAnalysis, dict[str, Any]]],
              digest: str, limit: int, keep_payload: bool = True) -> MessageOutcome:
        """A document or fingerprint: decode, analyse, commit (with the image if kept).
        `analyse` returns the analysis and what else the stored result holds."""
        case_id, resent = self._new_message(client_session_id, sequence, digest, kind, limit,
                                            subtype)
        if resent is not None:
            return resent
        try:
            if input_error is not None:
                raise input_error
            image = self._decode(data)
        except InvalidInput as exc:
            return self._rejected(case_id, sequence, kind, data, exc, digest, subtype=subtype)
        analysis, extra = analyse(image, case_id)
        duplicate, _ = self.store.record_message(
            case_id, sequence, kind, data=data, keep_payload=keep_payload, subtype=subtype,
            result=analysis.to_dict() | extra, digest=digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              item=analysis, progress=self._progress(case_id))

    def _analyse_document(self, image: DecodedImage, kind: str
                          ) -> tuple[ItemAnalysis, dict[str, Any]]:
        analysis = analyse_document(image, kind, self.models, self.config)
        if kind not in FACE_DOCUMENT_KINDS:
            return analysis, {}
        face = face_evidence(image.rgb, self.models, self.config.face, live=False)
        analysis = replace(analysis, checks=(*analysis.checks, _portrait_check(face is not None)))
        return analysis, {"face": face.to_record() if face is not None else NOT_FOUND}

    def document(self, client_session_id: str, sequence: int, kind: str | None,
                 data: bytes, kind_error: InvalidInput | None = None, digest: str = ""
                 ) -> MessageOutcome:
        """`kind` is None (with `kind_error`) when the station sent a kind we do not know."""
        return self._item(client_session_id, sequence, "document", kind, data, kind_error,
                          lambda image, _case: self._analyse_document(image, str(kind)), digest,
                          self.config.session.max_documents)

    def fingerprint(self, client_session_id: str, sequence: int, position: int | None,
                    ppi: int, data: bytes, position_error: InvalidInput | None = None,
                    digest: str = "", sbi_record: SbiCaptureRecord | None = None
                    ) -> MessageOutcome:
        """`sbi_record`: the signed device record the station forwarded with the print, checked
        for provenance (verifier.fingerprint.provenance)."""
        subtype = str(position) if position is not None else None
        return self._item(client_session_id, sequence, "fingerprint", subtype, data,
                          position_error,
                          lambda image, case_id: self._analyse_fingerprint(
                              image, case_id, int(position or 0), ppi, data, sbi_record,
                              client_session_id),
                          digest, self.config.session.max_fingerprints,
                          # The ISO template in the result is what the case keeps by default.
                          keep_payload=self.config.fingerprint.keep_images)

    def _analyse_fingerprint(self, image: DecodedImage, case_id: str, position: int, ppi: int,
                             data: bytes, sbi_record: SbiCaptureRecord | None,
                             client_session_id: str) -> tuple[ItemAnalysis, dict[str, Any]]:
        """The print's analysis, its provenance, and its Bozorth3 scores against the other
        slots' captures already in the case (see verifier.fingerprint.session_pairs)."""
        analysis = analyse_fingerprint(image, position, ppi, self.models, self.config)
        stored = self.store.messages_of_kind(case_id, "fingerprint")
        trusted, no_trust_reason = self.device_trust.keys()
        provenance = attribute(sbi_record, data, position, previous_record_hash(
            [Provenance.from_record((m.result or {}).get("provenance")) for m in stored]),
            trusted, no_trust_reason, client_session_id=client_session_id)
        if provenance.attribution is not Attribution.ATTRIBUTED:
            log.warning("case %s finger %d: %s print: %s", case_id, position,
                        provenance.attribution.value, provenance.detail)
        analysis = replace(analysis, checks=(*analysis.checks, attestation_check(provenance)))
        extra: dict[str, Any] = {"provenance": provenance.to_record()}
        template = finger_capture_template(analysis)
        if template is None:
            return analysis, extra
        extractor = self.models[EXTRACTOR_NAME]
        earlier = [EarlierCapture(f.sequence, f.position, extractor.load_template(f.template))
                   for f in map(finger_capture, stored) if f.template is not None]
        settings = self.config.fingerprint
        scores = scores_against_earlier(extractor.load_template(template), position, earlier,
                                        settings)
        analysis = replace(analysis, checks=(*analysis.checks,
                                             same_finger_check(position, scores, settings)))
        return analysis, extra | {"pair_scores": [p.to_record() for p in scores]}

    def fingerprint_exception(self, client_session_id: str, sequence: int, position: int,
                              reason: str, officer_note: str, digest: str = ""
                              ) -> MessageOutcome:
        """A finger the officer declares uncapturable; kept for the fingerprint rules."""
        case_id, resent = self._new_message(client_session_id, sequence, digest,
                                            "fingerprint_exception",
                                            self.config.session.max_fingerprints, str(position))
        if resent is not None:
            return resent
        duplicate, _ = self.store.record_message(
            case_id, sequence, "fingerprint_exception", data=b"", keep_payload=False,
            subtype=str(position), result={"reason": reason, "officer_note": officer_note},
            digest=digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              progress=self._progress(case_id))

    def field_correction(self, client_session_id: str, sequence: int, kind: str | None,
                         document_sequence: int, field: str, value: str, officer_note: str,
                         kind_error: InvalidInput | None = None, digest: str = ""
                         ) -> MessageOutcome:
        """The officer's correction of a field read from one of the session's documents,
        kept as its own message next to the reading (verifier.consistency.corrections).
        `kind` is None (with `kind_error`) when the station sent a kind we do not know."""
        case_id, resent = self._new_message(client_session_id, sequence, digest,
                                            "field_correction",
                                            self.config.session.max_corrections, kind)
        if resent is not None:
            return resent
        try:
            if kind_error is not None:
                raise kind_error
            accepted = check_correction(str(kind), document_sequence, field, value,
                                        officer_note,
                                        self.store.messages_of_kind(case_id, "document"))
        except InvalidInput as exc:
            return self._rejected(case_id, sequence, "field_correction", b"", exc, digest,
                                  subtype=kind)
        officer = self.store.summary(case_id).officer_id
        duplicate, _ = self.store.record_message(
            case_id, sequence, "field_correction", data=b"", keep_payload=False, subtype=kind,
            result=accepted.to_record(officer), digest=digest)
        read = accepted.read or {}
        item = ItemAnalysis(
            checks=(), summary=f"{kind} #{document_sequence}: {field} corrected by the officer",
            fields=(ReadField(field, accepted.value, str(read.get("raw_text", "")), 1.0,
                              corrected_by="officer"),))
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              item=item, progress=self._progress(case_id))

    def photo_retake(self, client_session_id: str, sequence: int, reason: str,
                     digest: str = "") -> MessageOutcome:
        """The officer has the accepted photo taken again in this case: the capture is
        released under the case's lock (kept in the record for audit) and the ready streak
        starts again from the frames after this message (`CaseStore.live_capture`). Refused,
        committed with the error, when there is no photo to release or a document or finger
        was already received (`CaseStore.record_message`)."""
        case_id, resent = self._new_message(client_session_id, sequence, digest, "photo_retake",
                                            self.config.session.max_frames)
        if resent is not None:
            return resent
        officer = self.store.summary(case_id).officer_id
        try:
            duplicate, _ = self.store.record_message(
                case_id, sequence, "photo_retake", data=b"", keep_payload=False,
                result={"reason": reason, "officer_id": officer}, release_capture=True,
                digest=digest)
        except SessionStateError as exc:  # after Finish, committing it is refused again
            return self._rejected(case_id, sequence, "photo_retake", b"", exc, digest)
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              progress=self._progress(case_id))

    def finish(self, client_session_id: str, sequence: int, digest: str = "") -> MessageOutcome:
        """The verdict. Refused with SequenceGap while an earlier sequence number is missing
        (the station resends it first). Before the verdict is stored the case's biometrics
        are enrolled in the galleries (replacing any earlier enrolment of the case), so a
        crash in between leaves nothing a resent Finish does not redo."""
        case_id = self._case_id(client_session_id)
        # Decided under the case's lock: a Finish reaching two replicas is decided once.
        verdict, duplicate = self.store.finish_once(
            case_id, sequence, lambda: self._decide(case_id, sequence))
        self._pace.forget(case_id)  # a finished case takes no more frames
        log.info("case %s finished: %s (%d flags)", case_id, verdict.decision.value,
                 len(verdict.flags))
        return MessageOutcome(sequence=sequence, committed=True, duplicate=duplicate,
                              verdict=verdict)

    def _decide(self, case_id: str, sequence: int) -> Verdict:
        missing = self.store.missing_sequences(case_id, sequence)
        if missing:
            shown = ",".join(map(str, missing[:50])) + (",..." if len(missing) > 50 else "")
            raise SequenceGap(f"sequence numbers {shown} are missing; resend them before "
                              "Finish", metadata={"missing": shown, "case_id": case_id})
        evidence = case_evidence(self.store.contents(case_id))
        verdict = verdict_for(CaseContext(evidence=evidence, galleries=self.galleries,
                                          models=self.models, face_matcher=self.face_matcher,
                                          config=self.config))
        if self.galleries is not None:
            try:
                enrol_case(self.galleries, evidence)
            except VerifierError as exc:
                # The verdict must not wait on the gallery; the case just is not searchable.
                log.error("case %s not enrolled in the galleries: %s", case_id, exc.message)
                verdict = decide(case_id, [*verdict.flags, Flag(
                    rule_id="system.enrolment_failed", severity=Severity.REVIEW,
                    message_id="Biometrik kasus ini tidak masuk galeri pencarian; periksa log",
                    message_en="This case's biometrics could not be enrolled for duplicate "
                               "search; see the verifier's log",
                    evidence={"reason": exc.reason})], verdict.matches)
        return verdict
