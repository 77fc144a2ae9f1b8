"""Verifier configuration: every default lives here; one TOML file may override any of them.

The file has one table per dataclass below, e.g.

    [server]
    listen = "0.0.0.0:50051"
    [imaging]
    max_bytes = 8388608
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ImagingConfig:
    """Limits of the decode gate. A 640x480 JPEG frame is ~50 KiB; a 500 ppi print ~150 KiB."""

    max_bytes: int = 16 * 1024 * 1024
    # 40 megapixels: an A4 page at 600 dpi is 35 MP; anything larger is a mistake or a bomb.
    max_pixels: int = 40_000_000
    max_side_px: int = 12_000
    allowed_formats: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:50051"
    # Above the decode gate's byte limit so that an oversized image reaches the gate and gets an
    # error for that message alone instead of ending the whole stream.
    max_message_bytes: int = 24 * 1024 * 1024
    grace_period_s: float = 5.0
    # Worker threads for image analysis (dlib and OpenCV release the GIL).
    analysis_threads: int = 2


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite:///verifier-cases.sqlite3"


@dataclass(frozen=True)
class FramingConfig:
    """Framing thresholds for live frames (the photo-requirements engine refines these)."""

    # Face box height as a share of frame height; below this the applicant must come closer.
    min_face_height_ratio: float = 0.30
    # Horizontal offset of the face centre from the frame centre, as a share of frame width.
    max_center_offset_ratio: float = 0.12
    # dlib HOG upsampling: 0 finds faces down to ~80 px at ~30 ms per 640x480 frame.
    detector_upsample: int = 0
    # HOG SVM margin below which a detection is ignored: margins under ~0.2 are mostly
    # face-like textures (skimage's astronaut has a 0.10 "face" on her suit's badge).
    min_detector_score: float = 0.3


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    imaging: ImagingConfig = field(default_factory=ImagingConfig)
    framing: FramingConfig = field(default_factory=FramingConfig)
    models_registry: Path = REPO_ROOT / "models" / "registry.toml"


def _override(obj: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"unknown configuration key {where}{key}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ValueError(f"{where}{key} must be a table")
            changes[key] = _override(current, value, f"{where}{key}.")
        elif isinstance(current, Path):
            changes[key] = Path(value)
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        else:
            if not isinstance(value, type(current)) and not (
                    isinstance(current, float) and isinstance(value, int)):
                raise ValueError(f"{where}{key} must be {type(current).__name__}, got {value!r}")
            changes[key] = type(current)(value)
    return dataclasses.replace(obj, **changes)


def load_config(path: Path | None = None, **overrides: Any) -> Config:
    """Defaults, then the TOML file (if any), then `overrides` as nested dicts."""
    config = Config()
    if path is not None:
        with open(path, "rb") as fh:
            config = _override(config, tomllib.load(fh), "")
    if overrides:
        config = _override(config, overrides, "")
    return config
