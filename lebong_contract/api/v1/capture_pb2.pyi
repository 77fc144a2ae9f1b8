from lebong_contract.api.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FingerprintExceptionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINGERPRINT_EXCEPTION_REASON_UNSPECIFIED: _ClassVar[FingerprintExceptionReason]
    FINGERPRINT_EXCEPTION_REASON_MISSING: _ClassVar[FingerprintExceptionReason]
    FINGERPRINT_EXCEPTION_REASON_AMPUTATED: _ClassVar[FingerprintExceptionReason]
    FINGERPRINT_EXCEPTION_REASON_BANDAGED: _ClassVar[FingerprintExceptionReason]
    FINGERPRINT_EXCEPTION_REASON_UNUSABLE: _ClassVar[FingerprintExceptionReason]

class LivenessAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIVENESS_ACTION_UNSPECIFIED: _ClassVar[LivenessAction]
    LIVENESS_ACTION_BLINK: _ClassVar[LivenessAction]
    LIVENESS_ACTION_TURN_LEFT: _ClassVar[LivenessAction]
    LIVENESS_ACTION_TURN_RIGHT: _ClassVar[LivenessAction]
    LIVENESS_ACTION_MOVE_CLOSER: _ClassVar[LivenessAction]
FINGERPRINT_EXCEPTION_REASON_UNSPECIFIED: FingerprintExceptionReason
FINGERPRINT_EXCEPTION_REASON_MISSING: FingerprintExceptionReason
FINGERPRINT_EXCEPTION_REASON_AMPUTATED: FingerprintExceptionReason
FINGERPRINT_EXCEPTION_REASON_BANDAGED: FingerprintExceptionReason
FINGERPRINT_EXCEPTION_REASON_UNUSABLE: FingerprintExceptionReason
LIVENESS_ACTION_UNSPECIFIED: LivenessAction
LIVENESS_ACTION_BLINK: LivenessAction
LIVENESS_ACTION_TURN_LEFT: LivenessAction
LIVENESS_ACTION_TURN_RIGHT: LivenessAction
LIVENESS_ACTION_MOVE_CLOSER: LivenessAction

class SignInRequest(_message.Message):
    __slots__ = ("username", "password", "totp_code")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TOTP_CODE_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    totp_code: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., totp_code: _Optional[str] = ...) -> None: ...

class SignInResponse(_message.Message):
    __slots__ = ("officer_token", "officer_id", "expires_at_unix_ms")
    OFFICER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    officer_token: str
    officer_id: str
    expires_at_unix_ms: int
    def __init__(self, officer_token: _Optional[str] = ..., officer_id: _Optional[str] = ..., expires_at_unix_ms: _Optional[int] = ...) -> None: ...

class SessionStart(_message.Message):
    __slots__ = ("station_id", "officer_id", "application", "officer_token")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    OFFICER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    officer_id: str
    application: _types_pb2.ApplicationData
    officer_token: str
    def __init__(self, station_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., application: _Optional[_Union[_types_pb2.ApplicationData, _Mapping]] = ..., officer_token: _Optional[str] = ...) -> None: ...

class CameraFrame(_message.Message):
    __slots__ = ("jpeg", "captured_at_unix_ms")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    captured_at_unix_ms: int
    def __init__(self, jpeg: _Optional[bytes] = ..., captured_at_unix_ms: _Optional[int] = ...) -> None: ...

class FingerprintImage(_message.Message):
    __slots__ = ("position", "image", "ppi", "scanner_id", "sbi_record")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    PPI_FIELD_NUMBER: _ClassVar[int]
    SCANNER_ID_FIELD_NUMBER: _ClassVar[int]
    SBI_RECORD_FIELD_NUMBER: _ClassVar[int]
    position: _types_pb2.FingerPosition
    image: bytes
    ppi: int
    scanner_id: str
    sbi_record: SbiCaptureRecord
    def __init__(self, position: _Optional[_Union[_types_pb2.FingerPosition, str]] = ..., image: _Optional[bytes] = ..., ppi: _Optional[int] = ..., scanner_id: _Optional[str] = ..., sbi_record: _Optional[_Union[SbiCaptureRecord, _Mapping]] = ...) -> None: ...

class SbiCaptureRecord(_message.Message):
    __slots__ = ("jws", "hash", "previous_hash", "device_public_key")
    JWS_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    DEVICE_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    jws: str
    hash: str
    previous_hash: str
    device_public_key: str
    def __init__(self, jws: _Optional[str] = ..., hash: _Optional[str] = ..., previous_hash: _Optional[str] = ..., device_public_key: _Optional[str] = ...) -> None: ...

class DocumentImage(_message.Message):
    __slots__ = ("kind", "image")
    KIND_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    kind: _types_pb2.DocumentKind
    image: bytes
    def __init__(self, kind: _Optional[_Union[_types_pb2.DocumentKind, str]] = ..., image: _Optional[bytes] = ...) -> None: ...

class FingerprintException(_message.Message):
    __slots__ = ("position", "reason", "officer_note")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OFFICER_NOTE_FIELD_NUMBER: _ClassVar[int]
    position: _types_pb2.FingerPosition
    reason: FingerprintExceptionReason
    officer_note: str
    def __init__(self, position: _Optional[_Union[_types_pb2.FingerPosition, str]] = ..., reason: _Optional[_Union[FingerprintExceptionReason, str]] = ..., officer_note: _Optional[str] = ...) -> None: ...

class Finish(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FieldCorrection(_message.Message):
    __slots__ = ("document_kind", "document_sequence", "field", "value", "officer_note")
    DOCUMENT_KIND_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    OFFICER_NOTE_FIELD_NUMBER: _ClassVar[int]
    document_kind: _types_pb2.DocumentKind
    document_sequence: int
    field: str
    value: str
    officer_note: str
    def __init__(self, document_kind: _Optional[_Union[_types_pb2.DocumentKind, str]] = ..., document_sequence: _Optional[int] = ..., field: _Optional[str] = ..., value: _Optional[str] = ..., officer_note: _Optional[str] = ...) -> None: ...

class PhotoRetake(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class StationMessage(_message.Message):
    __slots__ = ("client_session_id", "sequence", "start", "frame", "fingerprint", "document", "finish", "fingerprint_exception", "field_correction", "photo_retake")
    CLIENT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_EXCEPTION_FIELD_NUMBER: _ClassVar[int]
    FIELD_CORRECTION_FIELD_NUMBER: _ClassVar[int]
    PHOTO_RETAKE_FIELD_NUMBER: _ClassVar[int]
    client_session_id: str
    sequence: int
    start: SessionStart
    frame: CameraFrame
    fingerprint: FingerprintImage
    document: DocumentImage
    finish: Finish
    fingerprint_exception: FingerprintException
    field_correction: FieldCorrection
    photo_retake: PhotoRetake
    def __init__(self, client_session_id: _Optional[str] = ..., sequence: _Optional[int] = ..., start: _Optional[_Union[SessionStart, _Mapping]] = ..., frame: _Optional[_Union[CameraFrame, _Mapping]] = ..., fingerprint: _Optional[_Union[FingerprintImage, _Mapping]] = ..., document: _Optional[_Union[DocumentImage, _Mapping]] = ..., finish: _Optional[_Union[Finish, _Mapping]] = ..., fingerprint_exception: _Optional[_Union[FingerprintException, _Mapping]] = ..., field_correction: _Optional[_Union[FieldCorrection, _Mapping]] = ..., photo_retake: _Optional[_Union[PhotoRetake, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("sequence", "duplicate")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    duplicate: bool
    def __init__(self, sequence: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("sequence", "stage", "elapsed_s")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    stage: str
    elapsed_s: float
    def __init__(self, sequence: _Optional[int] = ..., stage: _Optional[str] = ..., elapsed_s: _Optional[float] = ...) -> None: ...

class Hint(_message.Message):
    __slots__ = ("code", "message_id", "message_en")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    code: str
    message_id: str
    message_en: str
    def __init__(self, code: _Optional[str] = ..., message_id: _Optional[str] = ..., message_en: _Optional[str] = ...) -> None: ...

class Guidance(_message.Message):
    __slots__ = ("sequence", "ready", "hints", "requirements", "face", "liveness")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    HINTS_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    ready: bool
    hints: _containers.RepeatedCompositeFieldContainer[Hint]
    requirements: _containers.RepeatedCompositeFieldContainer[_types_pb2.RequirementResult]
    face: _types_pb2.Box
    liveness: LivenessPrompt
    def __init__(self, sequence: _Optional[int] = ..., ready: _Optional[bool] = ..., hints: _Optional[_Iterable[_Union[Hint, _Mapping]]] = ..., requirements: _Optional[_Iterable[_Union[_types_pb2.RequirementResult, _Mapping]]] = ..., face: _Optional[_Union[_types_pb2.Box, _Mapping]] = ..., liveness: _Optional[_Union[LivenessPrompt, _Mapping]] = ...) -> None: ...

class LivenessPrompt(_message.Message):
    __slots__ = ("action", "step", "steps", "message_id", "message_en", "seconds_left")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    SECONDS_LEFT_FIELD_NUMBER: _ClassVar[int]
    action: LivenessAction
    step: int
    steps: int
    message_id: str
    message_en: str
    seconds_left: float
    def __init__(self, action: _Optional[_Union[LivenessAction, str]] = ..., step: _Optional[int] = ..., steps: _Optional[int] = ..., message_id: _Optional[str] = ..., message_en: _Optional[str] = ..., seconds_left: _Optional[float] = ...) -> None: ...

class CaptureAccepted(_message.Message):
    __slots__ = ("sequence", "photo_jpeg")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PHOTO_JPEG_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    photo_jpeg: bytes
    def __init__(self, sequence: _Optional[int] = ..., photo_jpeg: _Optional[bytes] = ...) -> None: ...

class ItemResult(_message.Message):
    __slots__ = ("sequence", "checks", "summary", "fields")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    checks: _containers.RepeatedCompositeFieldContainer[_types_pb2.RequirementResult]
    summary: str
    fields: _containers.RepeatedCompositeFieldContainer[_types_pb2.DocumentField]
    def __init__(self, sequence: _Optional[int] = ..., checks: _Optional[_Iterable[_Union[_types_pb2.RequirementResult, _Mapping]]] = ..., summary: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[_types_pb2.DocumentField, _Mapping]]] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("case_id", "decision", "flags", "matches")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    decision: _types_pb2.Decision
    flags: _containers.RepeatedCompositeFieldContainer[_types_pb2.Flag]
    matches: _containers.RepeatedCompositeFieldContainer[_types_pb2.MatchResult]
    def __init__(self, case_id: _Optional[str] = ..., decision: _Optional[_Union[_types_pb2.Decision, str]] = ..., flags: _Optional[_Iterable[_Union[_types_pb2.Flag, _Mapping]]] = ..., matches: _Optional[_Iterable[_Union[_types_pb2.MatchResult, _Mapping]]] = ...) -> None: ...

class CaseProgress(_message.Message):
    __slots__ = ("sequence", "missing")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    missing: _containers.RepeatedCompositeFieldContainer[_types_pb2.Flag]
    def __init__(self, sequence: _Optional[int] = ..., missing: _Optional[_Iterable[_Union[_types_pb2.Flag, _Mapping]]] = ...) -> None: ...

class VerifierMessage(_message.Message):
    __slots__ = ("client_session_id", "ack", "guidance", "capture_accepted", "item_result", "verdict", "error", "progress", "case_progress")
    CLIENT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ITEM_RESULT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CASE_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    client_session_id: str
    ack: Ack
    guidance: Guidance
    capture_accepted: CaptureAccepted
    item_result: ItemResult
    verdict: Verdict
    error: _types_pb2.ItemError
    progress: Progress
    case_progress: CaseProgress
    def __init__(self, client_session_id: _Optional[str] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., guidance: _Optional[_Union[Guidance, _Mapping]] = ..., capture_accepted: _Optional[_Union[CaptureAccepted, _Mapping]] = ..., item_result: _Optional[_Union[ItemResult, _Mapping]] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ..., error: _Optional[_Union[_types_pb2.ItemError, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., case_progress: _Optional[_Union[CaseProgress, _Mapping]] = ...) -> None: ...
