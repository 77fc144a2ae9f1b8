"""One counter: the signed-in officer, the station's health and the applicant's visit now
being captured, as plain domain code the web app (`capture_station.ui.app`) only exposes.

A visit is one interactive `StationSession`: the officer's actions become its `add_*` calls,
and what the verifier answers (guidance, the accepted photo, item results, the verdict) is
kept here as the visit's view. Only the current visit is held, and it is dropped when the
next starts: the counter screen never shows another applicant's data.

A retake stays in the visit's session: the verifier releases the accepted photo (its case
keeps it, for the auditors) and takes the next one, before any document or print is
captured.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from capture_station.application import parse_application
from capture_station.documents import DOCUMENT_KINDS, DocumentScan
from capture_station.errors import CaptureStationError, ScannerError, SessionError
from capture_station.finger_exceptions import REASONS, FingerException
from capture_station.officer import sign_in
from capture_station.scanners import FINGER_NAMES, open_scanner
from capture_station.scanners.sbi import SbiScanner
from capture_station.session import SessionConfig, SessionEvents, StationSession
from capture_station.spool import Spool
from capture_station.ui.preview import CameraHub
from lebong_contract.api.v1 import capture_pb2, types_pb2
from lebong_contract.probe import health_status

log = logging.getLogger(__name__)

_OUTCOMES = {types_pb2.OUTCOME_PASS: "pass", types_pb2.OUTCOME_FAIL: "fail"}
_DECISIONS = {types_pb2.DECISION_PASS: "pass", types_pb2.DECISION_REVIEW: "review",
              types_pb2.DECISION_FAIL: "fail"}
_SEVERITIES = {types_pb2.SEVERITY_INFO: "info", types_pb2.SEVERITY_REVIEW: "review",
               types_pb2.SEVERITY_FAIL: "fail"}
_SERVING = 1  # grpc.health.v1 HealthCheckResponse.SERVING


class CounterRefused(CaptureStationError):
    """An action the counter cannot take now (no officer, no visit, a bad request); the
    message says why, for the officer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CounterSettings:
    """What the counter application adds to a session's settings."""

    # verifier address, TLS, station id and timings; the officer is filled in at sign-in
    session: SessionConfig
    scanner_uri: str | None = None
    dev: bool = False
    # Document fields read with less confidence than this are highlighted for the officer.
    low_confidence: float = 0.8
    # The health panel asks the verifier and the scanner at most this often.
    health_ttl_s: float = 2.0


@dataclass(frozen=True)
class Officer:
    officer_id: str
    token: str


def _bilingual(message_id: str, message_en: str) -> dict[str, str]:
    return {"id": message_id or message_en, "en": message_en or message_id}


def _check(check: types_pb2.RequirementResult) -> dict[str, Any]:
    return {"requirement": check.requirement, "outcome": _OUTCOMES.get(check.outcome, "unknown"),
            "value": round(check.value, 3), "unit": check.unit,
            "message": _bilingual(check.message_id, check.message_en)}


def _flag(flag: types_pb2.Flag) -> dict[str, Any]:
    return {"rule_id": flag.rule_id, "severity": _SEVERITIES.get(flag.severity, "info"),
            "message": _bilingual(flag.message_id, flag.message_en)}


@dataclass
class Visit:
    """What the counter screen shows of the visit now being captured."""

    application: dict[str, Any]
    session: StationSession
    scanner: SbiScanner | None
    low_confidence: float
    task: asyncio.Task[Any] | None = None
    guidance: dict[str, Any] | None = None
    photo_jpeg: bytes | None = None
    photo_accepted: bool = False
    retakes: int = 0
    fingers: dict[int, dict[str, Any]] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    # sequence -> ("finger", position) | ("document", index in documents)
    items: dict[int, tuple[str, int]] = field(default_factory=dict)
    # correction sequence -> the corrected field's view
    corrections: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    connection: dict[str, Any] = field(default_factory=lambda: {"state": "connecting"})
    # What the case still lacks, as the verifier last said (None: not said yet).
    missing: list[dict[str, Any]] | None = None
    busy: str = ""  # a scanner capture in progress: which finger
    finished: bool = False
    verdict: dict[str, Any] | None = None
    session_error: str = ""

    @property
    def id(self) -> str:
        return self.session.client_session_id

    def next_finger(self) -> int | None:
        return next((p for p in FINGER_NAMES if p not in self.fingers), None)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id, "application": self.application, "guidance": self.guidance,
            "photo": None if self.photo_jpeg is None
            else base64.b64encode(self.photo_jpeg).decode("ascii"),
            "photo_accepted": self.photo_accepted, "retakes": self.retakes,
            "fingers": {str(p): f for p, f in self.fingers.items()},
            "next_finger": self.next_finger(), "busy": self.busy,
            "documents": self.documents, "problems": self.problems, "missing": self.missing,
            "connection": self.connection, "finished": self.finished,
            "verdict": self.verdict, "session_error": self.session_error,
        }


class VisitEvents(SessionEvents):
    """Keeps the visit's view up to date with what the verifier says."""

    def __init__(self, visit_ref: Callable[[], Visit | None]) -> None:
        self._visit = visit_ref

    def on_guidance(self, guidance: capture_pb2.Guidance) -> None:
        if (visit := self._visit()) is None:
            return
        face = guidance.face if guidance.HasField("face") else None
        visit.guidance = {
            "ready": guidance.ready, "sequence": guidance.sequence,
            "hints": [{"code": h.code, "message": _bilingual(h.message_id, h.message_en)}
                      for h in guidance.hints],
            "face": None if face is None else [face.left, face.top, face.right, face.bottom],
        }
        visit.connection = {"state": "connected"}

    def on_capture_accepted(self, accepted: capture_pb2.CaptureAccepted) -> None:
        if (visit := self._visit()) is not None:
            visit.photo_jpeg = accepted.photo_jpeg or None

    def on_item_result(self, result: capture_pb2.ItemResult) -> None:
        if (visit := self._visit()) is None:
            return
        if result.sequence in visit.corrections:
            visit.corrections[result.sequence]["corrected"]["status"] = "accepted"
            return
        if result.sequence not in visit.items:
            return
        visit.connection = {"state": "connected"}
        kind, key = visit.items[result.sequence]
        checks = [_check(c) for c in result.checks]
        if kind == "finger":
            attempt = next(a for a in visit.fingers[key]["attempts"]
                           if a["sequence"] == result.sequence)
            nfiq2 = next((c for c in checks if c["requirement"] == "nfiq2"), None)
            causes = [c for c in checks if c["requirement"].startswith("likely_cause.")]
            attempt.update(
                status="analysed", nfiq2=None if nfiq2 is None else nfiq2["value"],
                passed=all(c["outcome"] != "fail" for c in checks),
                cause=causes[0]["message"] if causes else None,
                failed=[c["message"] for c in checks if c["outcome"] == "fail"])
        else:
            document = visit.documents[key]
            document.update(status="analysed", summary=result.summary, checks=checks, fields=[
                {"name": f.name, "value": f.value, "raw_text": f.raw_text,
                 "confidence": round(f.confidence, 3),
                 "low": f.confidence < visit.low_confidence, "corrected": None}
                for f in result.fields])

    def on_case_progress(self, progress: capture_pb2.CaseProgress) -> None:
        if (visit := self._visit()) is not None:
            visit.missing = [_flag(f) for f in progress.missing]

    def on_item_error(self, error: types_pb2.ItemError) -> None:
        if (visit := self._visit()) is None:
            return
        text = error.status.message
        if error.sequence in visit.corrections:
            visit.corrections[error.sequence]["corrected"].update(status="refused", error=text)
        elif error.sequence in visit.items:
            kind, key = visit.items[error.sequence]
            target = (visit.documents[key] if kind == "document" else next(
                a for a in visit.fingers[key]["attempts"] if a["sequence"] == error.sequence))
            target.update(status="refused", error=text)
        visit.problems.append({"source": "verifier", "message": text})

    def on_station_error(self, error: CaptureStationError) -> None:
        if (visit := self._visit()) is not None:
            visit.problems.append({"source": "station", "message": str(error)})

    def on_reconnecting(self, attempt: int, delay_s: float, reason: str) -> None:
        if (visit := self._visit()) is not None:
            visit.connection = {"state": "reconnecting", "attempt": attempt,
                                "reason": reason, "retry_in_s": round(delay_s, 1)}

    def on_verdict(self, verdict: capture_pb2.Verdict) -> None:
        if (visit := self._visit()) is None:
            return
        visit.connection = {"state": "connected"}
        visit.verdict = {
            "case_id": verdict.case_id,
            "decision": _DECISIONS.get(verdict.decision, "unspecified"),
            "flags": [_flag(f) for f in verdict.flags],
        }


class Counter:
    """The counter's state; every method runs on the web app's event loop."""

    def __init__(self, settings: CounterSettings, open_spool: Callable[[], Spool],
                 camera: CameraHub | None) -> None:
        """`open_spool` runs in `start()`: the spool's SQLite connection belongs to the
        thread of the loop that serves the app."""
        self.settings = settings
        self._open_spool = open_spool
        self._spool: Spool | None = None
        self.camera = camera
        self.officer: Officer | None = None
        self.visit: Visit | None = None
        # Sessions finished at the counter whose verdict is still on its way: they run on,
        # unseen, until the verifier answers.
        self._background: list[asyncio.Task[Any]] = []
        self._health: tuple[float, dict[str, Any]] | None = None

    def start(self) -> None:
        """On the serving loop, before the first request."""
        self._spool = self._open_spool()
        if self.camera is not None:
            self.camera.start(asyncio.get_running_loop())

    @property
    def spool(self) -> Spool:
        assert self._spool is not None, "start() the counter first"
        return self._spool

    # Officer ------------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str, totp_code: str) -> Officer:
        """A TLS verifier checks the officer's password (and TOTP); a plain-text one, for
        development on one machine, takes the name alone (as `capture-station run`)."""
        if self._visit_open():
            raise CounterRefused("finish the current applicant before another officer signs in",
                                 409)
        username = username.strip()
        if not username:
            raise CounterRefused("officer user name is empty")
        config = self.settings.session
        if config.tls is None:
            self.officer = Officer(username, "")
        else:
            signed = await sign_in(config.verifier_address, config.tls, username, password,
                                   totp_code)
            self.officer = Officer(signed.officer_id, signed.token)
        self._to_background(self.visit)  # the last applicant's screen is not the new officer's
        self.visit = None
        return self.officer

    def sign_out(self) -> None:
        if self._visit_open():
            raise CounterRefused("finish the current applicant before signing out", 409)
        self.officer = None
        self._to_background(self.visit)
        self.visit = None

    # Health -------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """Verifier reachable, camera delivering, scanner answering, what the spool still
        owes the verifier. Probes are cached for `health_ttl_s`."""
        now = time.monotonic()
        if self._health is None or now - self._health[0] > self.settings.health_ttl_s:
            config = self.settings.session
            verifier, scanner = await asyncio.gather(
                asyncio.to_thread(health_status, config.verifier_address, 1.0, config.tls),
                asyncio.to_thread(self._probe_scanner))
            self._health = (now, {"verifier": verifier == _SERVING, "scanner": scanner})
        probes = self._health[1]
        return {
            "verifier": {"ok": probes["verifier"],
                         "address": self.settings.session.verifier_address},
            "camera": {"ok": self.camera is not None and self.camera.healthy,
                       "error": "" if self.camera is None else self.camera.error},
            "scanner": probes["scanner"],
            "spool": {"waiting": self.spool.pending_count(),
                      "open_sessions": len(self.spool.open_sessions())},
        }

    def _probe_scanner(self) -> dict[str, Any]:
        if self.settings.scanner_uri is None:
            return {"ok": False, "error": "no scanner configured (--scanner)"}
        if self.visit is not None and self.visit.scanner is not None:
            return {"ok": True, "id": self.visit.scanner.scanner_id}
        try:
            scanner = self._open_scanner("")
        except CaptureStationError as exc:
            return {"ok": False, "error": str(exc)}
        scanner.close()
        return {"ok": True, "id": scanner.scanner_id}

    def _open_scanner(self, session_id: str) -> SbiScanner:
        assert self.settings.scanner_uri is not None
        scanner = open_scanner(self.settings.scanner_uri, dev=self.settings.dev,
                               session_id=session_id)
        if not isinstance(scanner, SbiScanner):
            scanner.close()
            raise ScannerError("the counter application captures one finger at a time: it "
                               "needs an SBI device (sbi://...), not a folder of images")
        return scanner

    # Visit --------------------------------------------------------------------------------

    def _visit_open(self) -> bool:
        """A visit still capturing. One whose Finish is spooled is not: the next applicant
        may start while its verdict is still on the way (the spool is the truth)."""
        return self.visit is not None and not self.visit.finished \
            and not self.visit.session_error

    def _require_officer(self) -> Officer:
        if self.officer is None:
            raise CounterRefused("no officer is signed in: sign in first", 401)
        return self.officer

    def _require_visit(self) -> Visit:
        self._require_officer()
        if self.visit is None:
            raise CounterRefused("no applicant: start a visit first", 409)
        if self.visit.finished:
            raise CounterRefused("this visit is finished: nothing more can be captured", 409)
        if self.visit.session_error:
            raise CounterRefused(f"this visit's session ended ({self.visit.session_error}); "
                                 "what it captured stays in the spool", 409)
        return self.visit

    async def start_visit(self, application: Any) -> Visit:
        """Validate the application (as `--application` does) and open its session."""
        self._require_officer()
        if self._visit_open():
            raise CounterRefused("finish the current applicant first", 409)
        form = parse_application(application)  # ApplicationDataError names every problem
        self._to_background(self.visit)
        self.visit = await self._open_visit(form, dict(application))
        return self.visit

    async def _open_visit(self, form: types_pb2.ApplicationData, shown: dict[str, Any]) -> Visit:
        officer = self._require_officer()
        session_id = str(uuid.uuid4())
        # The scanner is opened per session: its signed records name the session.
        scanner = None if self.settings.scanner_uri is None else \
            await asyncio.to_thread(self._open_scanner, session_id)
        config = replace(self.settings.session, officer_id=officer.officer_id,
                         officer_token=officer.token)
        visit: Visit | None = None
        session = StationSession(
            config, self.spool, application=form,
            camera=None if self.camera is None else self.camera.session_frames(),
            events=VisitEvents(lambda: visit), client_session_id=session_id,
            interactive=True)
        visit = Visit(application=shown, session=session, scanner=scanner,
                      low_confidence=self.settings.low_confidence)
        visit.task = asyncio.create_task(self._run(visit), name=f"visit-{session_id}")
        await asyncio.sleep(0)  # let run() spool the session's Start before anything else
        return visit

    async def _run(self, visit: Visit) -> None:
        try:
            await visit.session.run()
        except CaptureStationError as exc:
            visit.session_error = str(exc)
            log.error("visit %s: %s", visit.id, exc)
        finally:
            if visit.scanner is not None:
                visit.scanner.close()

    def accept_photo(self) -> None:
        visit = self._require_visit()
        if visit.photo_jpeg is None:
            raise CounterRefused("no photo has been captured yet", 409)
        visit.photo_accepted = True

    async def retake(self) -> Visit:
        """Have the photo taken again in this session (its case keeps the refused photo);
        only before documents or prints are captured."""
        visit = self._require_visit()
        if visit.fingers or visit.documents:
            raise CounterRefused("a retake is possible only before documents and fingerprints "
                                 "are captured", 409)
        try:
            visit.session.retake_photo()
        except SessionError as exc:
            raise CounterRefused(str(exc), 409) from None
        visit.photo_jpeg = None
        visit.photo_accepted = False
        visit.guidance = None
        visit.retakes += 1
        return visit

    def _to_background(self, visit: Visit | None) -> None:
        self._background = [t for t in self._background if not t.done()]
        if visit is not None and visit.task is not None and not visit.task.done():
            self._background.append(visit.task)

    def _require_photo_step_done(self, visit: Visit) -> None:
        if not visit.photo_accepted and self.camera is not None:
            raise CounterRefused("accept the passport photo first", 409)

    async def capture_finger(self, position: int) -> dict[str, Any]:
        """One capture of `position` from the scanner (retried on the device up to its
        requested score), sent at once; its NFIQ 2 and likely cause arrive as an item result."""
        visit = self._require_visit()
        self._require_photo_step_done(visit)
        if position not in FINGER_NAMES:
            raise CounterRefused(f"finger position must be 1-10, got {position}")
        if visit.scanner is None:
            raise CounterRefused("no fingerprint scanner is configured (--scanner)", 409)
        if visit.busy:
            raise CounterRefused(f"the scanner is busy with {visit.busy}", 409)
        if visit.fingers.get(position, {}).get("exception"):
            raise CounterRefused(f"{FINGER_NAMES[position]} is declared an exception", 409)
        visit.busy = FINGER_NAMES[position]
        try:
            capture = await asyncio.to_thread(visit.scanner.best_capture, position)
        except ScannerError as exc:
            raise CounterRefused(f"scanner: {exc}", 502) from None
        finally:
            visit.busy = ""
        scanner_attempt = visit.scanner.attempts[-1]
        sequence = visit.session.add_fingerprint(capture)
        attempt = {"sequence": sequence, "status": "sent",
                   "device_score": scanner_attempt.quality_score,
                   "presses": scanner_attempt.attempts}
        slot = visit.fingers.setdefault(position, {"name": FINGER_NAMES[position],
                                                   "attempts": [], "exception": None})
        slot["attempts"].append(attempt)
        visit.items[sequence] = ("finger", position)
        return attempt

    def declare_exception(self, position: int, reason: str, note: str) -> None:
        visit = self._require_visit()
        if position not in FINGER_NAMES:
            raise CounterRefused(f"finger position must be 1-10, got {position}")
        if reason not in REASONS:
            raise CounterRefused("reason must be one of " + ", ".join(REASONS))
        if visit.fingers.get(position, {}).get("exception"):
            raise CounterRefused(f"{FINGER_NAMES[position]} is already declared", 409)
        visit.session.declare_finger_exception(
            FingerException(position=position, reason=reason, officer_note=note.strip()))
        slot = visit.fingers.setdefault(position, {"name": FINGER_NAMES[position],
                                                   "attempts": [], "exception": None})
        slot["exception"] = {"reason": reason, "note": note.strip()}

    def add_document(self, kind: str, image: bytes, source: str) -> dict[str, Any]:
        visit = self._require_visit()
        self._require_photo_step_done(visit)
        if kind not in DOCUMENT_KINDS:
            raise CounterRefused(f"unknown document kind {kind!r}; known: "
                                 + ", ".join(DOCUMENT_KINDS))
        if not image:
            raise CounterRefused(f"the {kind} scan is empty")
        sequence = visit.session.add_document(
            DocumentScan(kind=DOCUMENT_KINDS[kind], image=image, source=source))
        document = {"kind": kind, "sequence": sequence, "status": "sent", "fields": [],
                    "summary": "", "checks": []}
        visit.documents.append(document)
        visit.items[sequence] = ("document", len(visit.documents) - 1)
        return document

    def document_from_camera(self, kind: str) -> dict[str, Any]:
        """The camera's current frame as a document photograph."""
        latest = None if self.camera is None else self.camera.latest
        if latest is None:
            raise CounterRefused("the camera has no picture to take", 409)
        return self.add_document(kind, latest.jpeg, "camera")

    def correct_field(self, sequence: int, name: str, value: str, note: str) -> dict[str, Any]:
        """The officer's correction of a field read from the document sent as `sequence`;
        sent as its own message, the original reading stays in the case."""
        visit = self._require_visit()
        kind, index = visit.items.get(sequence, ("", -1))
        if kind != "document":
            raise CounterRefused(f"#{sequence} is not a document of this visit")
        document = visit.documents[index]
        target = next((f for f in document["fields"] if f["name"] == name), None)
        if target is None:
            raise CounterRefused(f"the {document['kind']} has no field {name!r} read")
        if not value.strip():
            raise CounterRefused("the corrected value is empty")
        correct = getattr(visit.session, "correct_field", None)
        if correct is None:
            raise CounterRefused("correcting a field is not available in this version", 501)
        correction = correct(document["kind"], name, value.strip(), note.strip(),
                             document_sequence=sequence)
        target["corrected"] = {"value": value.strip(), "note": note.strip(),
                               "sequence": correction, "status": "sent"}
        visit.corrections[correction] = target
        return target

    def finish(self) -> None:
        visit = self._require_visit()
        if visit.busy:
            raise CounterRefused(f"the scanner is busy with {visit.busy}", 409)
        visit.session.finish()
        visit.finished = True

    def view(self) -> dict[str, Any]:
        return {"officer": None if self.officer is None else self.officer.officer_id,
                "visit": None if self.visit is None else self.visit.view(),
                "low_confidence": self.settings.low_confidence,
                "document_kinds": list(DOCUMENT_KINDS), "exception_reasons": list(REASONS),
                "fingers": {str(p): n for p, n in FINGER_NAMES.items()},
                "scanner": self.settings.scanner_uri is not None,
                "camera": self.camera is not None}

    async def close(self) -> None:
        """Stop waiting on running sessions; their spooled messages stay for `resume`."""
        tasks = [t for t in (*self._background,
                             *([self.visit.task] if self.visit and self.visit.task else []))
                 if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.camera is not None:
            self.camera.close()

