from google.rpc import status_pb2 as _status_pb2
from lebong_contract.api.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Profile(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROFILE_UNSPECIFIED: _ClassVar[Profile]
    PROFILE_UPLOAD: _ClassVar[Profile]
    PROFILE_COUNTER: _ClassVar[Profile]
PROFILE_UNSPECIFIED: Profile
PROFILE_UPLOAD: Profile
PROFILE_COUNTER: Profile

class PhotoRequest(_message.Message):
    __slots__ = ("photo_id", "image", "profile")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    image: bytes
    profile: Profile
    def __init__(self, photo_id: _Optional[str] = ..., image: _Optional[bytes] = ..., profile: _Optional[_Union[Profile, str]] = ...) -> None: ...

class PhotoReport(_message.Message):
    __slots__ = ("photo_id", "compliant", "requirements", "error")
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLIANT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    photo_id: str
    compliant: bool
    requirements: _containers.RepeatedCompositeFieldContainer[_types_pb2.RequirementResult]
    error: _status_pb2.Status
    def __init__(self, photo_id: _Optional[str] = ..., compliant: _Optional[bool] = ..., requirements: _Optional[_Iterable[_Union[_types_pb2.RequirementResult, _Mapping]]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
