"""The one decode gate every image passes before any analysis.

It refuses what it cannot safely decode (empty, oversized, wrong format, truncated, a
decompression bomb) with an `ImageRejected` whose reason names the problem, applies EXIF
orientation, and normalises grey, palette, RGBA, 16-bit and CMYK inputs to 8-bit RGB.
The pixel limit is checked on the header alone, before any pixel is decoded, so a PNG
claiming 50,000 x 50,000 pixels is refused in about a millisecond.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from verifier.config import ImagingConfig
from lebong_contract.errors import ImageRejected

# The gate checks its own (configurable) limit on the header, before any pixel is decoded,
# and names the claimed size; Pillow's global guard would answer first with its own wording.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class DecodedImage:
    """An image that passed the gate: 8-bit RGB, upright."""

    rgb: np.ndarray  # H x W x 3, uint8, C-contiguous
    source_format: str  # "JPEG", "PNG", ...
    source_mode: str  # Pillow mode before normalisation, e.g. "RGBA", "I;16", "CMYK"
    orientation_applied: bool

    @property
    def width_px(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.rgb.shape[0])

    def grey(self) -> np.ndarray:
        """Luma (ITU-R BT.601), uint8 H x W."""
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return np.clip(self.rgb.astype(np.float32) @ weights + 0.5, 0, 255).astype(np.uint8)


def _reject(reason: str, message: str, **metadata: object) -> ImageRejected:
    return ImageRejected(message, reason=reason,
                         metadata={k: str(v) for k, v in metadata.items()})


def _damage_reason(exc: Exception) -> str:
    return "IMAGE_TRUNCATED" if "truncated" in str(exc).lower() else "IMAGE_CORRUPT"


def _to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit int) grey: scale the used range to 8 bits rather than clipping.
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        grey = np.clip(arr * (255.0 / hi) + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        grey = np.clip((arr - lo) * scale + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Transparent areas become white, the colour a passport-photo background must have.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def decode_image(data: bytes, limits: ImagingConfig) -> DecodedImage:
    """Decode `data` or raise `ImageRejected` naming the problem."""
    if not data:
        raise _reject("IMAGE_EMPTY", "image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise _reject("IMAGE_TOO_MANY_BYTES",
                      f"image is {len(data)} bytes; the limit is {limits.max_bytes}",
                      size_bytes=len(data), limit_bytes=limits.max_bytes)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise _reject("IMAGE_UNSUPPORTED_FORMAT",
                      "image format not recognised; send JPEG, PNG, TIFF, BMP or WEBP") from None
    except Exception as exc:  # Pillow raises many types on malformed headers
        raise _reject(_damage_reason(exc), f"image header unreadable: {exc}") from None
    with img:
        fmt = img.format or "UNKNOWN"
        if fmt not in limits.allowed_formats:
            raise _reject("IMAGE_UNSUPPORTED_FORMAT",
                          f"image format {fmt} is not allowed; allowed: "
                          f"{', '.join(limits.allowed_formats)}", format=fmt)
        width, height = img.size
        if width <= 0 or height <= 0:
            raise _reject("IMAGE_CORRUPT", f"image claims {width}x{height} pixels")
        if (width * height > limits.max_pixels or width > limits.max_side_px
                or height > limits.max_side_px):
            raise _reject("IMAGE_TOO_MANY_PIXELS",
                          f"image claims {width}x{height} pixels; the limit is "
                          f"{limits.max_pixels} pixels and {limits.max_side_px} px a side",
                          width_px=width, height_px=height)
        if (width * height > limits.dense_check_min_pixels
                and width * height > limits.max_pixels_per_byte * len(data)):
            raise _reject("IMAGE_IMPLAUSIBLY_SMALL",
                          f"image claims {width}x{height} pixels in {len(data)} bytes (more "
                          f"than {limits.max_pixels_per_byte} pixels a byte): blank or crafted; "
                          "send the camera's or scanner's own image",
                          width_px=width, height_px=height, size_bytes=len(data))
        try:
            frames = getattr(img, "n_frames", 1)
        except Exception as exc:  # counting frames reads every frame's header (TIFF IFDs)
            raise _reject(_damage_reason(exc), f"{fmt} image has a damaged frame: {exc}") from None
        if frames > 1 and fmt != "TIFF":
            # Animated images are not photos; the first frame alone would hide the problem.
            raise _reject("IMAGE_UNSUPPORTED_FORMAT", f"animated {fmt} is not accepted")
        source_mode = img.mode
        try:
            img.load()
        except Exception as exc:
            raise _reject(_damage_reason(exc), f"{fmt} image could not be decoded: {exc}") from None
        orientation = img.getexif().get(0x0112, 1)
        upright = ImageOps.exif_transpose(img) if orientation not in (0, 1) else img
        try:
            rgb = _to_rgb(upright)
        except Exception as exc:
            raise _reject("IMAGE_CORRUPT",
                          f"{fmt} image in mode {source_mode} could not be converted: {exc}") from None
    return DecodedImage(rgb=rgb, source_format=fmt, source_mode=source_mode,
                        orientation_applied=orientation not in (0, 1))


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """Encode an RGB array as JPEG (for evidence crops and generated inputs)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
