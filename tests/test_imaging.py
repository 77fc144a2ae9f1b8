"""The decode gate: what it accepts, how it normalises, and what it refuses (and why)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.fuzz.targets import with_claimed_size
from tests.images import encode, png_header_only
from verifier.config import ImagingConfig
from lebong_contract.errors import ImageRejected
from verifier.imaging import decode_image

LIMITS = ImagingConfig()


def gradient(h: int = 60, w: int = 80) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 3 % 256, y * 4 % 256, (x + y) % 256], axis=-1).astype(np.uint8)


def reason(data: bytes, limits: ImagingConfig = LIMITS) -> str:
    with pytest.raises(ImageRejected) as info:
        decode_image(data, limits)
    assert info.value.message  # always a readable message
    return info.value.reason


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "BMP", "WEBP"])
def test_allowed_formats_decode_to_rgb(fmt: str) -> None:
    img = decode_image(encode(gradient(), fmt), LIMITS)
    assert img.rgb.shape == (60, 80, 3) and img.rgb.dtype == np.uint8
    assert img.source_format == fmt


def test_png_is_lossless_through_the_gate() -> None:
    src = gradient()
    assert np.array_equal(decode_image(encode(src, "PNG"), LIMITS).rgb, src)


def test_refusals_name_the_problem() -> None:
    jpeg = encode((np.random.default_rng(1).random((200, 300, 3)) * 255).astype(np.uint8))
    assert reason(b"") == "IMAGE_EMPTY"
    assert reason(jpeg[: len(jpeg) // 2]) == "IMAGE_TRUNCATED"
    assert reason(b"%PDF-1.4 not an image") == "IMAGE_UNSUPPORTED_FORMAT"
    assert reason(encode(gradient(), "GIF")) == "IMAGE_UNSUPPORTED_FORMAT"
    assert reason(jpeg, ImagingConfig(max_bytes=1000)) == "IMAGE_TOO_MANY_BYTES"


def test_decompression_bomb_is_refused_from_the_header() -> None:
    bomb = png_header_only(50_000, 50_000)
    assert len(bomb) < 200
    assert reason(bomb) == "IMAGE_TOO_MANY_PIXELS"
    # One side too long is refused too, even when the pixel count is small.
    assert reason(png_header_only(20_000, 10)) == "IMAGE_TOO_MANY_PIXELS"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a_large_image_in_a_few_bytes_is_refused_before_decoding(fmt: str) -> None:
    """6000x6000 pixels claimed by an 8x8 image's header: a few hundred bytes that cost
    seconds and hundreds of MiB to decode (fuzzing found it), refused from the header. Its
    twin, a photo of the same size with detail, decodes."""
    small = encode(np.full((8, 8, 3), 200, np.uint8), fmt)
    crafted = with_claimed_size(small, 6000, 6000)
    assert 6000 * 6000 > LIMITS.max_pixels_per_byte * len(crafted)
    assert reason(crafted) == "IMAGE_IMPLAUSIBLY_SMALL"
    detail = encode(np.tile(gradient(), (100, 75, 1)), fmt)
    assert decode_image(detail, LIMITS).rgb.shape == (6000, 6000, 3)
    # Small images are never judged by it: a blank frame is the camera's business.
    assert decode_image(small, LIMITS).rgb.shape == (8, 8, 3)


def test_exif_orientation_is_applied() -> None:
    src = np.zeros((40, 100, 3), np.uint8)
    src[:, :50] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    img = decode_image(encode(src, "JPEG", exif=exif.tobytes(), quality=95), LIMITS)
    assert img.orientation_applied
    assert img.rgb.shape[:2] == (100, 40)
    # After a clockwise turn the white left half is on top.
    assert img.rgb[:50].mean() > 200 and img.rgb[50:].mean() < 50


def test_grey_rgba_16bit_cmyk_palette_are_normalised() -> None:
    grey = Image.fromarray(np.full((10, 10), 77, np.uint8), "L")
    assert decode_image(encode(grey, "PNG"), LIMITS).rgb[0, 0].tolist() == [77, 77, 77]

    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, 5:, 3] = 255  # left half fully transparent
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMITS)
    assert out.source_mode == "RGBA"
    assert out.rgb[0, 0].tolist() == [255, 255, 255]  # transparent -> white background
    assert out.rgb[0, 9].tolist() == [255, 0, 0]

    deep = Image.fromarray(np.full((10, 10), 65535 // 2, np.uint16))
    out = decode_image(encode(deep, "PNG"), LIMITS)
    assert out.source_mode.startswith("I")
    assert abs(int(out.rgb[0, 0, 0]) - 128) <= 1

    cmyk = Image.new("CMYK", (10, 10), (0, 255, 255, 0))  # pure red in CMYK
    out = decode_image(encode(cmyk, "JPEG", quality=95), LIMITS)
    assert out.source_mode == "CMYK"
    r, g, b = out.rgb[5, 5].tolist()
    assert r > 200 and g < 60 and b < 60

    pal = Image.new("P", (10, 10), 3)
    pal.putpalette([0, 0, 0] * 3 + [10, 200, 30] + [0, 0, 0] * 252)
    assert decode_image(encode(pal, "PNG"), LIMITS).rgb[0, 0].tolist() == [10, 200, 30]


def test_grey_helper_uses_luma() -> None:
    img = decode_image(encode(np.full((4, 4, 3), (255, 0, 0), np.uint8), "PNG"), LIMITS)
    assert int(img.grey()[0, 0]) == 76  # 0.299 * 255
