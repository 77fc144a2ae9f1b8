"""ISO/IEC 19794-2:2005 finger minutiae records: what the case keeps instead of the image.

NBIS writes and reads the format; this module checks a record's header before NBIS sees it
(a stored or uploaded template is untrusted input) and carries it as base64 in JSON.
"""

from __future__ import annotations

import base64
import binascii
import struct

from lebong_contract.errors import InvalidInput

_MAGIC = b"FMR\x00"
_VERSION = b" 20\x00"
_HEADER_BYTES = 24  # format id, version, record length (4), capture equipment, size, resolution
# A record holds at most 255 minutiae of 6 bytes per finger view; a few views at most.
_MAX_RECORD_BYTES = 64 * 1024


def check_template(data: bytes) -> bytes:
    """`data` if it looks like an ISO/IEC 19794-2:2005 record; InvalidInput naming the flaw."""
    if len(data) < _HEADER_BYTES:
        raise InvalidInput(f"template of {len(data)} bytes is shorter than the ISO/IEC "
                           "19794-2 header", reason="TEMPLATE_INVALID")
    if data[:4] != _MAGIC or data[4:8] != _VERSION:
        raise InvalidInput("not an ISO/IEC 19794-2:2005 record (expected 'FMR\\0 20\\0' "
                           f"header, got {data[:8]!r})", reason="TEMPLATE_INVALID")
    (length,) = struct.unpack(">I", data[8:12])
    if length != len(data) or length > _MAX_RECORD_BYTES:
        raise InvalidInput(f"template header says {length} bytes, record has {len(data)}",
                           reason="TEMPLATE_INVALID")
    return data


def template_to_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def template_from_text(text: str) -> bytes:
    try:
        return check_template(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidInput("template is not valid base64", reason="TEMPLATE_INVALID") from None
