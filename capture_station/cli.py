"""`capture-station`: run one applicant's session at the counter, or finish spooled ones.

Exit codes: 0 a verdict was received (whatever the decision); 2 bad arguments or input files;
3 the verifier could not be reached or refused the session or the officer's sign-in (the spool
is kept: run `resume`); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import socket
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from capture_station.application import load_application
from capture_station.camera import OpenCVCamera
from capture_station.documents import DOCUMENT_KINDS, DocumentScan, parse_document_arg
from capture_station.errors import (CaptureStationError, OfficerCredentialsError,
                                    OfficerSignInRefused, ScannerError, SessionError)
from capture_station.finger_exceptions import REASONS, parse_finger_exception
from capture_station.officer import sign_in
from capture_station.scanners import FingerprintScanner, open_scanner
from capture_station.scanners.sbi import SBI_PORTS
from capture_station.session import SessionConfig, SessionEvents, SessionReport, StationSession
from capture_station.spool import DEFAULT_MAX_MESSAGE_BYTES, Spool
from lebong_contract.api.v1 import capture_pb2, types_pb2
from lebong_contract.client_tls import ClientTls

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_SESSION = 3
EXIT_INTERRUPTED = 130

_DEFAULTS = SessionConfig(verifier_address="")


def default_spool_path() -> Path:
    """$CAPTURE_STATION_SPOOL, else the XDG data directory: it must outlive a reboot."""
    if env := os.environ.get("CAPTURE_STATION_SPOOL"):
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "capture-station" / "spool.sqlite3"


class ConsolePrinter(SessionEvents):
    """Prints what the verifier says, for the officer. The same hint is printed once, not once
    per frame, so the screen shows changes rather than a scrolling wall of repeats."""

    def __init__(self, out: TextIO, err: TextIO, photo_path: Path | None = None) -> None:
        self.out = out
        self.err = err
        self.photo_path = photo_path
        self._last_hint: str | None = None

    def say(self, text: str, *, error: bool = False) -> None:
        stream = self.err if error else self.out
        print(text, file=stream, flush=True)

    def on_guidance(self, guidance: capture_pb2.Guidance) -> None:
        if guidance.ready or not guidance.hints:
            key, text = "__ready__", "siap / ready"
        else:
            hint = guidance.hints[0]
            key, text = hint.code, f"{hint.message_id} / {hint.message_en}"
        if key != self._last_hint:
            self._last_hint = key
            self.say(f"  > {text}")

    def on_capture_accepted(self, accepted: capture_pb2.CaptureAccepted) -> None:
        self.say(f"foto diterima / photo accepted (frame #{accepted.sequence})")
        if self.photo_path is not None and accepted.photo_jpeg:
            self.photo_path.parent.mkdir(parents=True, exist_ok=True)
            self.photo_path.write_bytes(accepted.photo_jpeg)
            self.say(f"foto paspor disimpan / passport photo saved: {self.photo_path}")

    def on_item_result(self, result: capture_pb2.ItemResult) -> None:
        failed = [c.requirement for c in result.checks if c.outcome == types_pb2.OUTCOME_FAIL]
        suffix = f" [failed: {', '.join(failed)}]" if failed else ""
        self.say(f"item #{result.sequence}: {result.summary}{suffix}")

    def on_item_error(self, error: types_pb2.ItemError) -> None:
        self.say(f"item #{error.sequence} rejected: {error.status.message}", error=True)

    def on_station_error(self, error: CaptureStationError) -> None:
        self.say(f"not sent: {error}", error=True)

    def on_reconnecting(self, attempt: int, delay_s: float, reason: str) -> None:
        self.say(f"verifier connection lost ({reason}); retry {attempt} in {delay_s:.1f} s",
                    error=True)

    def on_verdict(self, verdict: capture_pb2.Verdict) -> None:
        decision = types_pb2.Decision.Name(verdict.decision).removeprefix("DECISION_")
        self.say(f"VERDICT: {decision}  (case {verdict.case_id})")
        for flag in verdict.flags:
            severity = types_pb2.Severity.Name(flag.severity).removeprefix("SEVERITY_")
            self.say(f"  [{severity}] {flag.rule_id}: {flag.message_id} / {flag.message_en}")
        for m in verdict.matches:
            decision = "cocok / match" if m.match else "TIDAK cocok / NO match"
            self.say(f"  {m.modality} {m.probe} vs {m.reference}: {decision} "
                     f"(score {m.score:.3f}, threshold {m.threshold:.3f} at {m.operating_point})")


def _positive(kind: type[float] | type[int]):  # noqa: ANN202 - argparse type factory
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capture-station",
        description="Capture station for the Lebong passport counter: streams the camera, "
                    "fingerprints and document scans of one applicant to the verifier and "
                    "prints live guidance and the verdict. Every message is spooled to disk "
                    "first, so a lost connection or a crash loses nothing.",
        epilog="Exit codes: 0 verdict received (any decision); 2 bad arguments or input; "
               "3 verifier unreachable, session or sign-in refused (spool kept: run `resume`); "
               "130 interrupted.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log connection details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--spool", type=Path, default=None, metavar="PATH",
                        help="SQLite spool file (default: $CAPTURE_STATION_SPOOL or "
                             "$XDG_DATA_HOME/capture-station/spool.sqlite3)")
    outputs = argparse.ArgumentParser(add_help=False)
    outputs.add_argument("--report", type=Path, default=None, metavar="PATH",
                         help="write the session report as JSON to PATH")
    outputs.add_argument("--photo", type=Path, default=None, metavar="PATH",
                         help="save the passport photo the verifier cropped from the accepted "
                              "frame (JPEG) to PATH")
    outputs.add_argument("--json", default=None, metavar="PATH|-",
                         help="write the report JSON to PATH, or to stdout with '-' (human "
                              "output then goes to stderr)")
    common.add_argument("--connect-deadline", type=_positive(float),
                        default=_DEFAULTS.connect_deadline_s, metavar="S",
                        help="give up after S seconds without progress (an ack) from the verifier; "
                             "the spool is kept for `resume` (default: %(default)s)")
    common.add_argument("--max-message-mib", type=_positive(float),
                        default=DEFAULT_MAX_MESSAGE_BYTES / 2**20, metavar="MIB",
                        help="refuse to send any single message larger than this; keep it "
                             "below the verifier's limit (default: %(default)s)")
    common.add_argument("--tls-ca", type=Path, default=None, metavar="PEM",
                        help="the verifier's CA certificate (ca.pem from `verifier pki`); "
                             "with --tls-cert and --tls-key the channel is mutual TLS")
    common.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                        help="this station's certificate (`verifier pki issue`)")
    common.add_argument("--tls-key", type=Path, default=None, metavar="PEM",
                        help="this station's private key")

    # What `run` and `ui` both capture with.
    station = argparse.ArgumentParser(add_help=False)
    station.add_argument("--verifier", required=True, metavar="HOST:PORT",
                         help="verifier gRPC address")
    station.add_argument("--camera", required=True, metavar="SOURCE",
                         help="camera device index (0), video file, or rtsp:// / http:// URL")
    station.add_argument("--max-fps", type=_positive(float), default=_DEFAULTS.max_fps,
                         metavar="N",
                         help="send at most N frames per second (default: %(default)s)")
    station.add_argument("--scanner", default=None, metavar="URI",
                         help="fingerprint scanner: an SBI 2.0 device "
                              "sbi://HOST[:PORT]?trust=KEYFILE[&score=40&timeout=10&retries=2] "
                              "(no port: discover on 4501-4600; KEYFILE lists the trusted device "
                              "keys), or with --dev a folder:PATH or directory of images named by "
                              "finger (02.png, right_index.png)")
    station.add_argument("--dev", action="store_true",
                         help="development station: allow the folder scanner and an SBI device "
                              "without a trust file (the verifier flags such prints as "
                              "unattributed)")
    station.add_argument("--station-id", default=None,
                         help="this station's identifier (default: with TLS the one its "
                              "certificate names, else the host name); a TLS verifier refuses "
                              "any other than the certificate's")
    station.add_argument("--frame-timeout", type=_positive(float),
                         default=_DEFAULTS.frame_timeout_s, metavar="S",
                         help="stop streaming frames after S seconds without an accepted photo "
                              "(default: %(default)s)")
    station.add_argument("--jpeg-quality", type=int, default=_DEFAULTS.jpeg_quality,
                         choices=range(50, 101), metavar="Q",
                         help="JPEG quality of camera frames, 50-100 (default: %(default)s)")
    run = commands.add_parser("run", parents=[common, outputs, station],
                              help="run one applicant's session",
                              description="Run one applicant's session to its verdict.")
    run.add_argument("--finger-exception", action="append", default=[],
                     metavar="POSITION=REASON[:NOTE]",
                     help="a finger that cannot be captured; repeatable. POSITION is 1-10 or "
                          "a name (right_index); REASON one of " + ", ".join(REASONS)
                          + "; NOTE the officer's note")
    run.add_argument("--document", action="append", default=[], metavar="KIND=PATH",
                     help="a document scan to send; repeatable. KIND is one of "
                          + ", ".join(DOCUMENT_KINDS))
    run.add_argument("--application", type=Path, default=None, metavar="JSON_FILE",
                     help='application form: {"full_name", "nik", "date_of_birth": '
                          '"YYYY-MM-DD", "place_of_birth", "sex": "male|female", '
                          '"passport_type": "ordinary|electronic"}')
    run.add_argument("--officer", "--officer-id", dest="officer", default=_current_user(),
                     metavar="NAME",
                     help="the operating officer's user name on the verifier (default: login "
                          "name). With TLS the officer signs in: password from "
                          "--officer-password-file or a prompt, TOTP code from --officer-totp "
                          "or a prompt when the account has one")
    run.add_argument("--officer-password-file", type=Path, default=None, metavar="PATH",
                     help="read the officer's password from the first line of PATH")
    run.add_argument("--officer-totp", default=None, metavar="CODE",
                     help="the officer's current TOTP code (asked for when needed)")

    ui = commands.add_parser(
        "ui", parents=[common, station], help="serve the counter application on 127.0.0.1",
        description="The officer's counter application: a local web page (127.0.0.1 only) "
                    "to sign in, see the station's health, type or load the application, "
                    "watch the live preview, capture the photo, fingers and documents, and "
                    "see and print the verdict. Runs until interrupted; sessions not finished "
                    "stay in the spool.")
    ui.add_argument("--port", type=int, default=8765,
                    help="serve on this port (default: %(default)s)")
    ui.add_argument("--open", action="store_true", help="open the page in the default browser")
    # An officer keeps capturing while the verifier is away: the spool holds everything; and
    # an applicant may take minutes in front of the camera (retake restarts the stream).
    ui.set_defaults(connect_deadline=3600.0, frame_timeout=300.0)

    sim = commands.add_parser(
        "sbi-sim", help="run an SBI 2.0 fingerprint device simulator",
        description="Simulate an SBI 2.0 fingerprint scanner on 127.0.0.1 (first free port "
                    "of 4501-4600, or --port) for tests, the demo and training: signed, "
                    "hash-chained capture records, busy state, timeouts and NFIQ 2 quality "
                    "scores. Runs until interrupted.")
    source = sim.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, metavar="DIR",
                        help="replay images named by finger (02.png, right_index_2.png); "
                             "several files for one finger are successive presses")
    source.add_argument("--synthetic", action="store_true",
                        help="generate the fingers of one synthetic person")
    sim.add_argument("--person", type=int, default=1,
                     help="synthetic person number: another number, other fingers (1)")
    sim.add_argument("--port", type=int, default=None,
                     help="listen on this port only (default: first free of 4501-4600)")
    sim.add_argument("--trust-file", type=Path, default=None, metavar="PATH",
                     help="write the device's public key here, for sbi://...?trust=PATH")
    sim.add_argument("--press-delay", type=_positive(float), default=0.3, metavar="S",
                     help="seconds one press takes (default: %(default)s)")
    sim.add_argument("--tamper", choices=("none", "signature", "chain"), default="none",
                     help="misbehave for training: alter records after signing, or break "
                          "the hash chain (default: none)")
    sim.add_argument("--dev", action="store_true",
                     help="required: the simulator is for development and training only")

    resume = commands.add_parser(
        "resume", parents=[common, outputs], help="finish sessions left open in the spool",
        description="Resend what open sessions in the spool still owe the verifier, finish "
                    "them and wait for their verdicts. Nothing new is captured.")
    resume.add_argument("--verifier", default=None, metavar="HOST:PORT",
                        help="verifier gRPC address (default: the one each session started "
                             "with)")
    return parser


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _write_json(text: str, args: argparse.Namespace) -> None:
    if args.report is not None:
        args.report.write_text(text + "\n", encoding="utf-8")
    if args.json == "-":
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    elif args.json is not None:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


def _config(args: argparse.Namespace, verifier: str, station_id: str = "",
            officer_id: str = "", officer_token: str = "") -> SessionConfig:
    extra = {}
    if args.command in ("run", "ui"):
        extra = dict(max_fps=args.max_fps, frame_timeout_s=args.frame_timeout,
                     jpeg_quality=args.jpeg_quality)
    return SessionConfig(verifier_address=verifier, station_id=station_id,
                         officer_id=officer_id, officer_token=officer_token,
                         connect_deadline_s=args.connect_deadline, tls=args.tls, **extra)


def _officer_password(args: argparse.Namespace) -> str:
    if args.officer_password_file is not None:
        try:
            return args.officer_password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            raise OfficerCredentialsError(
                f"cannot read the officer's password from {args.officer_password_file}: "
                f"{getattr(exc, 'strerror', None) or 'empty or not text'}") from None
    if not sys.stdin.isatty():
        raise OfficerCredentialsError("no terminal to ask the officer's password: give "
                                      "--officer-password-file")
    return getpass.getpass(f"kata sandi / password for {args.officer}: ")


async def _sign_in(args: argparse.Namespace, printer: ConsolePrinter) -> tuple[str, str]:
    """(officer id, token). A TLS verifier takes the officer who signs in; a plain-text one
    (development, loopback) the name alone."""
    if args.tls is None:
        return args.officer, ""
    password = _officer_password(args)
    try:
        officer = await sign_in(args.verifier, args.tls, args.officer, password,
                                args.officer_totp or "")
    except OfficerSignInRefused as exc:
        if exc.reason != "TOTP_REQUIRED" or args.officer_totp or not sys.stdin.isatty():
            raise
        code = input("kode TOTP / TOTP code: ").strip()
        officer = await sign_in(args.verifier, args.tls, args.officer, password, code)
    printer.say(f"petugas / officer {officer.officer_id} masuk / signed in")
    return officer.officer_id, officer.token


def _station_id(args: argparse.Namespace) -> str:
    if args.station_id is not None:
        return str(args.station_id)
    # Empty: a TLS verifier fills in the station its certificate names.
    return "" if args.tls is not None else socket.gethostname()


async def _run(args: argparse.Namespace, spool: Spool, printer: ConsolePrinter) -> int:
    # Everything that can be wrong with the inputs is checked before the session exists, so a
    # typo never leaves a half-spooled session behind.
    application = load_application(args.application) if args.application else None
    documents: list[DocumentScan] = [parse_document_arg(d) for d in args.document]
    exceptions = [parse_finger_exception(text) for text in args.finger_exception]
    # Chosen here: the scanner's signed records name the session they are captured for.
    client_session_id = str(uuid.uuid4())
    scanner: FingerprintScanner | None = open_scanner(
        args.scanner, exceptions=[e.position for e in exceptions], dev=args.dev,
        session_id=client_session_id) if args.scanner else None
    officer_id, officer_token = await _sign_in(args, printer)
    camera = OpenCVCamera(args.camera)
    try:
        session = StationSession(
            _config(args, args.verifier, _station_id(args), officer_id, officer_token), spool,
            application=application, camera=camera, scanner=scanner, documents=documents,
            finger_exceptions=exceptions, events=printer, client_session_id=client_session_id)
        printer.say(f"session {session.client_session_id} -> {args.verifier}")
        report = await session.run()
    finally:
        camera.close()
        if scanner is not None:
            scanner.close()
    _print_summary(printer, report)
    _write_json(report.to_json(), args)
    return EXIT_OK


async def _ui(args: argparse.Namespace, spool: Spool, printer: ConsolePrinter) -> int:
    from capture_station.ui.counter import CounterSettings  # web stack only when serving
    from capture_station.ui.serve import counter_for, serve_counter

    settings = CounterSettings(session=_config(args, args.verifier, _station_id(args)),
                               scanner_uri=args.scanner, dev=args.dev)
    await serve_counter(counter_for(settings, lambda: spool, args.camera), args.port,
                        open_browser=args.open, say=printer.say)
    return EXIT_OK


async def _resume(args: argparse.Namespace, spool: Spool, printer: ConsolePrinter) -> int:
    open_sessions = spool.open_sessions()
    if not open_sessions:
        printer.say("no open sessions in the spool")
    reports: list[SessionReport] = []
    failures = 0
    for stored in open_sessions:
        verifier = args.verifier or stored.verifier_address
        printer.say(f"resuming session {stored.client_session_id} -> {verifier} "
                       f"({spool.pending_count(stored.client_session_id)} unacked)")
        session = StationSession.resume(
            _config(args, verifier, stored.station_id, stored.officer_id), spool,
            stored.client_session_id, events=printer)
        try:
            reports.append(await session.run())
        except SessionError as exc:
            failures += 1
            printer.say(f"error: {exc}", error=True)
    _write_json("[" + ",\n".join(r.to_json() for r in reports) + "]", args)
    return EXIT_SESSION if failures else EXIT_OK


def _print_summary(printer: ConsolePrinter, report: SessionReport) -> None:
    printer.say(
        f"frames sent {report.frames_sent}, dropped {report.frames_dropped}, "
        f"rate-limited {report.frames_rate_limited}; fingerprints {report.fingerprints_sent}, "
        f"documents {report.documents_sent}; reconnects {report.reconnects}; "
        f"{report.duration_s:.1f} s")


def _sbi_sim(args: argparse.Namespace) -> int:
    if not args.dev:
        raise ScannerError("the SBI simulator is for development and training: run it with "
                           "--dev (a counter uses a real device listed in a trust file)")
    from capture_station.sbi_sim import (SbiServer, SbiSimulator, SimulatorSettings,
                                         folder_presses, require_verifier, synthetic_presses)

    require_verifier()

    presses = (folder_presses(args.images) if args.images is not None
               else synthetic_presses(args.person))
    simulator = SbiSimulator(presses, SimulatorSettings(press_delay_s=args.press_delay,
                                                        tamper=args.tamper))
    server = SbiServer(simulator, ports=[args.port] if args.port else SBI_PORTS)
    if args.trust_file is not None:
        server.write_trust_file(args.trust_file)
    print(f"SBI simulator {simulator.settings.device_id} on 127.0.0.1:{server.port}; "
          f"public key {simulator.public_key}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "sbi-sim":
        try:
            return _sbi_sim(args)
        except CaptureStationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_INPUT
    try:
        args.tls = ClientTls.from_paths(args.tls_ca, args.tls_cert, args.tls_key)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    # With --json - stdout carries only the JSON; everything for people goes to stderr.
    json_out = getattr(args, "json", None)  # `ui` writes no report
    printer = ConsolePrinter(sys.stderr if json_out == "-" else sys.stdout, sys.stderr,
                             photo_path=getattr(args, "photo", None))
    try:
        with Spool(args.spool or default_spool_path(),
                   max_message_bytes=int(args.max_message_mib * 2**20)) as spool:
            command = {"run": _run, "ui": _ui, "resume": _resume}[args.command]
            return asyncio.run(command(args, spool, printer))
    except SessionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SESSION
    except CaptureStationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted; unacknowledged messages stay in the spool "
              "(run `capture-station resume`)", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
