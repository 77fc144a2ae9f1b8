from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Sex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEX_UNSPECIFIED: _ClassVar[Sex]
    SEX_MALE: _ClassVar[Sex]
    SEX_FEMALE: _ClassVar[Sex]

class PassportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PASSPORT_TYPE_UNSPECIFIED: _ClassVar[PassportType]
    PASSPORT_TYPE_ORDINARY: _ClassVar[PassportType]
    PASSPORT_TYPE_ELECTRONIC: _ClassVar[PassportType]

class ApplicationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_KIND_UNSPECIFIED: _ClassVar[ApplicationKind]
    APPLICATION_KIND_FIRST: _ClassVar[ApplicationKind]
    APPLICATION_KIND_RENEWAL: _ClassVar[ApplicationKind]

class DocumentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_KIND_UNSPECIFIED: _ClassVar[DocumentKind]
    DOCUMENT_KIND_KTP: _ClassVar[DocumentKind]
    DOCUMENT_KIND_AKTA_KELAHIRAN: _ClassVar[DocumentKind]
    DOCUMENT_KIND_IJAZAH: _ClassVar[DocumentKind]
    DOCUMENT_KIND_BUKU_NIKAH: _ClassVar[DocumentKind]
    DOCUMENT_KIND_KARTU_KELUARGA: _ClassVar[DocumentKind]
    DOCUMENT_KIND_OLD_PASSPORT: _ClassVar[DocumentKind]
    DOCUMENT_KIND_UPLOADED_PHOTO: _ClassVar[DocumentKind]

class FingerPosition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINGER_POSITION_UNSPECIFIED: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_THUMB: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_INDEX: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_MIDDLE: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_RING: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_LITTLE: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_THUMB: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_INDEX: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_MIDDLE: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_RING: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_LITTLE: _ClassVar[FingerPosition]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_PASS: _ClassVar[Outcome]
    OUTCOME_FAIL: _ClassVar[Outcome]
    OUTCOME_UNKNOWN: _ClassVar[Outcome]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_INFO: _ClassVar[Severity]
    SEVERITY_REVIEW: _ClassVar[Severity]
    SEVERITY_FAIL: _ClassVar[Severity]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_PASS: _ClassVar[Decision]
    DECISION_REVIEW: _ClassVar[Decision]
    DECISION_FAIL: _ClassVar[Decision]
SEX_UNSPECIFIED: Sex
SEX_MALE: Sex
SEX_FEMALE: Sex
PASSPORT_TYPE_UNSPECIFIED: PassportType
PASSPORT_TYPE_ORDINARY: PassportType
PASSPORT_TYPE_ELECTRONIC: PassportType
APPLICATION_KIND_UNSPECIFIED: ApplicationKind
APPLICATION_KIND_FIRST: ApplicationKind
APPLICATION_KIND_RENEWAL: ApplicationKind
DOCUMENT_KIND_UNSPECIFIED: DocumentKind
DOCUMENT_KIND_KTP: DocumentKind
DOCUMENT_KIND_AKTA_KELAHIRAN: DocumentKind
DOCUMENT_KIND_IJAZAH: DocumentKind
DOCUMENT_KIND_BUKU_NIKAH: DocumentKind
DOCUMENT_KIND_KARTU_KELUARGA: DocumentKind
DOCUMENT_KIND_OLD_PASSPORT: DocumentKind
DOCUMENT_KIND_UPLOADED_PHOTO: DocumentKind
FINGER_POSITION_UNSPECIFIED: FingerPosition
FINGER_POSITION_RIGHT_THUMB: FingerPosition
FINGER_POSITION_RIGHT_INDEX: FingerPosition
FINGER_POSITION_RIGHT_MIDDLE: FingerPosition
FINGER_POSITION_RIGHT_RING: FingerPosition
FINGER_POSITION_RIGHT_LITTLE: FingerPosition
FINGER_POSITION_LEFT_THUMB: FingerPosition
FINGER_POSITION_LEFT_INDEX: FingerPosition
FINGER_POSITION_LEFT_MIDDLE: FingerPosition
FINGER_POSITION_LEFT_RING: FingerPosition
FINGER_POSITION_LEFT_LITTLE: FingerPosition
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_PASS: Outcome
OUTCOME_FAIL: Outcome
OUTCOME_UNKNOWN: Outcome
SEVERITY_UNSPECIFIED: Severity
SEVERITY_INFO: Severity
SEVERITY_REVIEW: Severity
SEVERITY_FAIL: Severity
DECISION_UNSPECIFIED: Decision
DECISION_PASS: Decision
DECISION_REVIEW: Decision
DECISION_FAIL: Decision

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class ApplicationData(_message.Message):
    __slots__ = ("full_name", "nik", "date_of_birth", "place_of_birth", "sex", "passport_type", "parents_consent", "application_kind")
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    NIK_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    PLACE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARENTS_CONSENT_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_KIND_FIELD_NUMBER: _ClassVar[int]
    full_name: str
    nik: str
    date_of_birth: Date
    place_of_birth: str
    sex: Sex
    passport_type: PassportType
    parents_consent: bool
    application_kind: ApplicationKind
    def __init__(self, full_name: _Optional[str] = ..., nik: _Optional[str] = ..., date_of_birth: _Optional[_Union[Date, _Mapping]] = ..., place_of_birth: _Optional[str] = ..., sex: _Optional[_Union[Sex, str]] = ..., passport_type: _Optional[_Union[PassportType, str]] = ..., parents_consent: _Optional[bool] = ..., application_kind: _Optional[_Union[ApplicationKind, str]] = ...) -> None: ...

class RequirementResult(_message.Message):
    __slots__ = ("requirement", "outcome", "value", "unit", "score", "threshold", "message_id", "message_en")
    REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    requirement: str
    outcome: Outcome
    value: float
    unit: str
    score: float
    threshold: float
    message_id: str
    message_en: str
    def __init__(self, requirement: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., value: _Optional[float] = ..., unit: _Optional[str] = ..., score: _Optional[float] = ..., threshold: _Optional[float] = ..., message_id: _Optional[str] = ..., message_en: _Optional[str] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("left", "top", "right", "bottom")
    LEFT_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    BOTTOM_FIELD_NUMBER: _ClassVar[int]
    left: int
    top: int
    right: int
    bottom: int
    def __init__(self, left: _Optional[int] = ..., top: _Optional[int] = ..., right: _Optional[int] = ..., bottom: _Optional[int] = ...) -> None: ...

class Flag(_message.Message):
    __slots__ = ("rule_id", "severity", "evidence", "message_id", "message_en")
    class EvidenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    severity: Severity
    evidence: _containers.ScalarMap[str, str]
    message_id: str
    message_en: str
    def __init__(self, rule_id: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., evidence: _Optional[_Mapping[str, str]] = ..., message_id: _Optional[str] = ..., message_en: _Optional[str] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("sequence", "status")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    status: _status_pb2.Status
    def __init__(self, sequence: _Optional[int] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class DocumentField(_message.Message):
    __slots__ = ("name", "value", "raw_text", "confidence", "corrected_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RAW_TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    raw_text: str
    confidence: float
    corrected_by: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., raw_text: _Optional[str] = ..., confidence: _Optional[float] = ..., corrected_by: _Optional[str] = ...) -> None: ...

class MatchResult(_message.Message):
    __slots__ = ("modality", "probe", "reference", "score", "score_unit", "threshold", "operating_point", "match", "model")
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_UNIT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OPERATING_POINT_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    modality: str
    probe: str
    reference: str
    score: float
    score_unit: str
    threshold: float
    operating_point: str
    match: bool
    model: str
    def __init__(self, modality: _Optional[str] = ..., probe: _Optional[str] = ..., reference: _Optional[str] = ..., score: _Optional[float] = ..., score_unit: _Optional[str] = ..., threshold: _Optional[float] = ..., operating_point: _Optional[str] = ..., match: _Optional[bool] = ..., model: _Optional[str] = ...) -> None: ...
