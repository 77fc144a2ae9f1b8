"""Encoded test images with known properties (no files from ../shared/data)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a tiny (invalid) IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def encode(rgb: np.ndarray | Image.Image, fmt: str = "JPEG", **kw: object) -> bytes:
    img = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()
