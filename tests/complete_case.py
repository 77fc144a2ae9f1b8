"""A complete counter session with known ground truth: the demo's applicant (scikit-image's
astronaut, SITI AMINAH), a generated KTP carrying her face and the form's data, steady
framed live frames and ten different generated fingers. Tests that expect PASS start from it;
their twins take one item away or spoil it."""

from __future__ import annotations

import functools
import random
import uuid

import numpy as np

from tests.images import encode
from lebong_contract.api.v1 import capture_pb2, types_pb2
from verifier.synthetic.fingerprints import encode_png, impression
from verifier.synthetic.frames import framed_face
from verifier.synthetic.identity import identity_with_nik
from verifier.synthetic.ktp import generate_ktp

NIK = "1707014508900001"
NAME = "SITI AMINAH"
BIRTH_PLACE = "MUARA AMAN"
ALL_FINGERS = tuple(range(1, 11))


def application(nik: str = NIK) -> types_pb2.ApplicationData:
    return types_pb2.ApplicationData(
        full_name=NAME, nik=nik, sex=types_pb2.SEX_FEMALE,
        date_of_birth=types_pb2.Date(year=1990, month=8, day=5), place_of_birth=BIRTH_PLACE,
        passport_type=types_pb2.PASSPORT_TYPE_ELECTRONIC)


@functools.cache
def ktp_jpeg(nik: str = NIK) -> bytes:
    """Her KTP; with another NIK, a card of that NIK carrying her face (a forged identity)."""
    person = identity_with_nik(random.Random(7), nik, NAME, BIRTH_PLACE)
    return encode(generate_ktp(7, person)[0])


@functools.cache
def frame_jpeg() -> bytes:
    return encode(framed_face())


@functools.cache
def finger_png(finger_id: int, impression_index: int = 0) -> bytes:
    return encode_png(impression(finger_id, impression_index))


def blank_png(width: int = 856, height: int = 540, grey: int = 200) -> bytes:
    return encode(np.full((height, width, 3), grey, np.uint8), "PNG")


class Session:
    """One session's station messages with consecutive sequence numbers."""

    def __init__(self) -> None:
        self.sid = str(uuid.uuid4())
        self.seq = 0

    def next(self, **payload: object) -> capture_pb2.StationMessage:
        self.seq += 1
        return capture_pb2.StationMessage(client_session_id=self.sid, sequence=self.seq,
                                          **payload)  # type: ignore[arg-type]

    def start(self, app: types_pb2.ApplicationData | None = None) -> capture_pb2.StationMessage:
        return self.next(start=capture_pb2.SessionStart(
            station_id="loket-1", officer_id="petugas-7",
            application=app if app is not None else application()))

    def frame(self, jpeg: bytes) -> capture_pb2.StationMessage:
        return self.next(frame=capture_pb2.CameraFrame(jpeg=jpeg, captured_at_unix_ms=1))

    def document(self, data: bytes, kind: int = types_pb2.DOCUMENT_KIND_KTP
                 ) -> capture_pb2.StationMessage:
        return self.next(document=capture_pb2.DocumentImage(kind=kind, image=data))

    def fingerprint(self, data: bytes, position: int = 2, ppi: int = 500
                    ) -> capture_pb2.StationMessage:
        return self.next(fingerprint=capture_pb2.FingerprintImage(
            position=position, image=data, ppi=ppi, scanner_id="replay"))

    def exception(self, position: int,
                  reason: int = capture_pb2.FINGERPRINT_EXCEPTION_REASON_AMPUTATED
                  ) -> capture_pb2.StationMessage:
        return self.next(fingerprint_exception=capture_pb2.FingerprintException(
            position=position, reason=reason, officer_note="catatan petugas"))

    def finish(self) -> capture_pb2.StationMessage:
        return self.next(finish=capture_pb2.Finish())


def complete_session(steady_frames: int, *, ktp: bytes | None = None,
                     fingers: dict[int, bytes] | None = None, exceptions: tuple[int, ...] = (),
                     finger_base: int = 900, nik: str = NIK
                     ) -> tuple[Session, list[capture_pb2.StationMessage]]:
    """Start, `steady_frames` framed frames, the KTP, ten fingers (or `fingers`; positions in
    `exceptions` declared instead), Finish."""
    s = Session()
    msgs = [s.start(application(nik))]
    msgs += [s.frame(frame_jpeg()) for _ in range(steady_frames)]
    msgs.append(s.document(ktp_jpeg(nik) if ktp is None else ktp))
    prints = fingers if fingers is not None else {
        p: finger_png(finger_base + p) for p in ALL_FINGERS if p not in exceptions}
    msgs += [s.fingerprint(data, position) for position, data in sorted(prints.items())]
    msgs += [s.exception(p) for p in exceptions]
    msgs.append(s.finish())
    return s, msgs
