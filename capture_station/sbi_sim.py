"""An SBI 2.0 fingerprint device simulator, for tests, the demo and officers' training.

It behaves like a counter scanner's SBI service: it listens on 127.0.0.1 in the SBI port
range, answers discovery and device info, and captures on RCAPTURE: it presses (replays or
generates) impressions until one reaches the requested NFIQ 2 score or the request's timeout
passes, and returns the best as a record signed with a key pair made at start-up, chained to
the previous record by its hash. One capture at a time: a second client gets "busy".

Images come from a folder (named by finger as for the folder scanner; several files for one
finger are successive presses) or from the synthetic generator (one generated person; finger
ids `person * 10 + position`).

For training and tests a simulator can misbehave on purpose: `tamper="signature"` alters
records after signing, `tamper="chain"` breaks the hash chain, and `press_delay_s` beyond the
request timeout makes every capture time out.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from capture_station.errors import ScannerError
from capture_station.scanners.folder import IMAGE_SUFFIXES, finger_position_from_name
from capture_station.scanners.sbi import (
    ERROR_BAD_REQUEST,
    ERROR_BUSY,
    ERROR_NONE,
    ERROR_TIMEOUT,
    SBI_PORTS,
    SPEC_VERSION,
)
from lebong_contract.sbi_record import (
    BIO_SUBTYPES,
    POSITIONS_BY_SUBTYPE,
    chain_hash,
    public_key_text,
    sign_jws,
)

log = logging.getLogger(__name__)

Tamper = Literal["none", "signature", "chain"]
# Source of one press: (position, attempt) -> encoded image.
PressSource = Callable[[int, int], bytes]


def folder_presses(path: Path) -> PressSource:
    """Presses replayed from image files named by finger (see capture_station.scanners.folder)."""
    if not path.is_dir():
        raise ScannerError(f"simulator image folder {str(path)!r} is not a directory")
    files: dict[int, list[Path]] = defaultdict(list)
    for file in sorted(path.iterdir()):
        if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
            files[finger_position_from_name(file.name)].append(file)
    if not files:
        raise ScannerError(f"simulator image folder {str(path)!r} holds no images")

    def press(position: int, attempt: int) -> bytes:
        if position not in files:
            raise KeyError(position)
        options = files[position]
        return options[attempt % len(options)].read_bytes()

    return press


def require_verifier() -> None:
    """The simulator scores presses with NFIQ 2 and generates fingers with the verifier's
    fingerprint code (NBIS), which a station installed on its own does not have."""
    if importlib.util.find_spec("verifier") is None:
        raise ScannerError("the SBI simulator needs the verifier's fingerprint code: install "
                           "lebong-capture-station[simulator] (development and training only)")


def synthetic_presses(person: int = 1, difficulty: float = 1.0) -> PressSource:
    """Presses of one generated person's ten fingers (finger id person * 10 + position)."""
    from verifier.synthetic.fingerprints import encode_png, impression

    def press(position: int, attempt: int) -> bytes:
        return encode_png(impression(person * 10 + position, attempt, difficulty))

    return press


def nfiq2_score(image: bytes) -> int:
    """The device's quality score: NFIQ 2 of the press (0 when it cannot be assessed)."""
    from verifier.fingerprint.analysis import MAX_SIDE_PX_500PPI, MIN_SIDE_PX_500PPI
    from verifier.fingerprint.extraction import MinutiaeExtractor

    grey = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE)
    if grey is None or not MIN_SIDE_PX_500PPI <= min(grey.shape) <= max(grey.shape) \
            <= MAX_SIDE_PX_500PPI:
        return 0  # unreadable, or a size NBIS cannot take
    global _EXTRACTOR
    with _EXTRACTOR_LOCK:  # an extractor is for one thread at a time
        if _EXTRACTOR is None:
            _EXTRACTOR = MinutiaeExtractor()
        return _EXTRACTOR.extract(grey).nfiq2 or 0


_EXTRACTOR: Any = None
_EXTRACTOR_LOCK = threading.Lock()


@dataclass
class SimulatorSettings:
    device_id: str = "LEBONG-SIM-0001"
    make_model: str = "Lebong SBI simulator 1.0"
    press_delay_s: float = 0.05  # time one press takes (finger on, image read)
    max_presses: int = 4  # presses per RCAPTURE before returning the best
    tamper: Tamper = "none"


class SbiSimulator:
    """The device: state, key pair and capture logic, independent of HTTP."""

    def __init__(self, presses: PressSource, settings: SimulatorSettings | None = None,
                 quality: Callable[[bytes], int] = nfiq2_score) -> None:
        self.presses = presses
        self.settings = settings or SimulatorSettings()
        self.quality = quality
        self._key = Ed25519PrivateKey.generate()
        self.public_key = public_key_text(self._key.public_key())
        self._busy = threading.Lock()
        self._attempts: dict[int, int] = defaultdict(int)  # presses so far per finger

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def device(self) -> dict[str, Any]:
        return {"deviceId": self.settings.device_id, "deviceStatus": "Busy" if self.busy
                else "Ready", "purpose": "Registration", "type": "Finger",
                "deviceSubId": [1], "specVersion": [SPEC_VERSION],
                "makeModel": self.settings.make_model, "certification": "L0",
                "publicKey": self.public_key, "error": _error(ERROR_NONE)}

    def capture(self, request: Mapping[str, Any]) -> dict[str, Any]:
        try:
            bio = request["bio"][0]
            position = POSITIONS_BY_SUBTYPE[bio["bioSubType"][0]]
            requested = float(bio.get("requestedScore", 0))
            timeout_s = float(request.get("timeout", 10_000)) / 1000
            previous_hash = str(bio.get("previousHash", ""))
            bytes.fromhex(previous_hash)
            transaction = str(request["transactionId"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return _record_error(ERROR_BAD_REQUEST, f"malformed RCAPTURE request: {exc!r}")
        if not self._busy.acquire(blocking=False):
            return _record_error(ERROR_BUSY, "device busy: another capture is in progress")
        try:
            best = self._press_until(position, requested, timeout_s)
        finally:
            self._busy.release()
        if best is None:
            return _record_error(ERROR_TIMEOUT, f"no finger captured within {timeout_s:.1f} s")
        score, image = best
        payload = {"digitalId": self.settings.device_id, "bioType": "Finger",
                   "bioSubType": BIO_SUBTYPES[position], "purpose": "Registration",
                   "env": request.get("env", "Staging"), "transactionId": transaction,
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "requestedScore": requested, "qualityScore": score, "ppi": 500,
                   "bioValue": base64.b64encode(image).decode("ascii")}
        data = sign_jws(payload, self._key)
        record_hash = chain_hash(previous_hash, image)
        if self.settings.tamper == "signature":
            # A forger raising the score after signing: the body no longer fits the signature.
            header, _, signature = data.split(".")
            forged = base64.urlsafe_b64encode(json.dumps({**payload, "qualityScore": 100})
                                              .encode()).rstrip(b"=").decode("ascii")
            data = f"{header}.{forged}.{signature}"
        elif self.settings.tamper == "chain":
            record_hash = chain_hash(chain_hash(previous_hash, b"dropped record"), image)
        return {"biometrics": [{"specVersion": SPEC_VERSION, "data": data, "hash": record_hash,
                                "error": _error(ERROR_NONE)}]}

    def _press_until(self, position: int, requested: float, timeout_s: float
                     ) -> tuple[int, bytes] | None:
        deadline = time.monotonic() + timeout_s
        best: tuple[int, bytes] | None = None
        for _ in range(self.settings.max_presses):
            if time.monotonic() + self.settings.press_delay_s > deadline:
                break
            time.sleep(self.settings.press_delay_s)
            attempt = self._attempts[position]
            self._attempts[position] += 1
            try:
                image = self.presses(position, attempt)
            except KeyError:
                break  # no such finger in the folder: nothing to press
            score = self.quality(image)
            if best is None or score > best[0]:
                best = (score, image)
            if score >= requested:
                break
        return best


def _error(code: str, info: str = "Success") -> dict[str, str]:
    return {"errorCode": code, "errorInfo": info}


def _record_error(code: str, info: str) -> dict[str, Any]:
    return {"biometrics": [{"specVersion": SPEC_VERSION, "data": "", "hash": "",
                            "error": _error(code, info)}]}


def _handler(simulator: SbiSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                return json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return None

        def _answer(self, payload: Any, status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_MOSIPDISC(self) -> None:  # noqa: N802 - SBI verb
            self._body()
            self._answer([simulator.device()])

        def do_MOSIPDINFO(self) -> None:  # noqa: N802 - SBI verb
            self._body()
            self._answer([{"deviceInfo": simulator.device(), "error": _error(ERROR_NONE)}])

        def do_RCAPTURE(self) -> None:  # noqa: N802 - SBI verb
            body = self._body()
            if not isinstance(body, dict):
                self._answer(_record_error(ERROR_BAD_REQUEST, "body is not a JSON object"))
                return
            self._answer(simulator.capture(body))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("sbi-sim: " + format, *args)

    return Handler


class SbiServer:
    """The simulator on HTTP: the first free port of `ports` on 127.0.0.1, in a thread."""

    def __init__(self, simulator: SbiSimulator, ports: range | list[int] = SBI_PORTS,
                 host: str = "127.0.0.1") -> None:
        self.simulator = simulator
        for port in ports:
            try:
                self.httpd = ThreadingHTTPServer((host, port), _handler(simulator))
                break
            except OSError:
                continue
        else:
            raise ScannerError(f"no free port for the SBI simulator in {ports}")
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                        name="sbi-sim")

    def start(self) -> SbiServer:
        self._thread.start()
        return self

    def write_trust_file(self, path: Path) -> None:
        path.write_text(self.simulator.public_key + "\n", encoding="ascii")

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> SbiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
