"""Finding the face in a document photo (KTP, old passport, an uploaded photo) or a live
capture, with fallbacks whose costs are stated.

A KTP photo is about 2.5 x 3 cm: on a 300 dpi scan of the card the face is ~150 px, on a phone
photo of the card it can be 40 px, behind a guilloche pattern, and the HOG detector misses it.
The cascade stops at the first stage that finds a face:

1. HOG, no upsampling: ~30 ms at 640x480; finds faces from ~80 px.
2. HOG on the image upsampled 1x, 2x: ~4x the cost each; finds faces from ~40 px, ~20 px.
3. dlib's CNN (MMOD) detector: ~1.2 s on a 512x512 image on these CPUs, ~4x per upsample;
   finds faces HOG misses (turned heads, low contrast, print patterns). Its input is first
   shrunk to `cnn_max_side_px` so that a phone photo of a card does not take a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from verifier.config import FaceConfig
from verifier.face.detection import DetectedFace, detect_faces
from verifier.face.embedding import FaceTemplate, face_template
from verifier.models import LoadedModels

CNN_MODEL_NAME = "face_detector_mmod"


def load_cnn_detector(path: Path) -> Any:
    """Registry loader for dlib's MMOD CNN face detector. Shared for the same reason as the
    face-recognition ResNet (see `load_face_encoder`): dlib holds the GIL for the whole call,
    which also stalls every other thread, the gRPC event loop included, for its ~1 s."""
    import dlib

    return dlib.cnn_face_detection_model_v1(str(path))


class _CnnAsHog:
    """The CNN detector behind the HOG detector's `run(img, upsample, threshold)` interface,
    so that `detect_faces` places the landmarks the same way for both."""

    def __init__(self, cnn: Any) -> None:
        self.cnn = cnn

    def run(self, rgb: np.ndarray, upsample: int, min_score: float
            ) -> tuple[list[Any], list[float], list[int]]:
        found = [d for d in self.cnn(rgb, upsample) if d.confidence >= min_score]
        return [d.rect for d in found], [float(d.confidence) for d in found], [0] * len(found)


@dataclass(frozen=True)
class FoundFace:
    """The face a comparison uses, and what finding it cost."""

    template: FaceTemplate
    scale: float  # working image px per source image px (< 1 when the source was shrunk)
    faces_found: int  # faces the successful stage found; the largest is used
    stages_tried: tuple[str, ...]

    def box_in_source_px(self) -> tuple[int, int, int, int]:
        b = self.template.face.box
        return (round(b.left / self.scale), round(b.top / self.scale),
                round(b.right / self.scale), round(b.bottom / self.scale))


def _shrunk(rgb: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    import cv2

    side = max(rgb.shape[:2])
    if side <= max_side_px:
        return rgb, 1.0
    scale = max_side_px / side
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)), scale


def _stages(config: FaceConfig, side_px: int) -> list[tuple[str, int]]:
    """HOG upsampling levels to try: upsampling stops once the upsampled image would exceed
    `hog_max_side_px`, where one HOG pass (~1 s at 4000 px) costs as much as the CNN stage."""
    stages = []
    for upsample in range(config.max_upsample + 1):
        if upsample > 0 and side_px * 2 ** upsample > config.hog_max_side_px:
            break
        stages.append(("hog" if upsample == 0 else f"hog+upsample{upsample}", upsample))
    return stages


@dataclass(frozen=True)
class LocatedFace:
    """The largest face the cascade found, before embedding."""

    work: np.ndarray  # the (possibly shrunk) image the face was found in
    face: DetectedFace  # in `work`'s pixels
    scale: float  # work px per source px
    faces_found: int
    stages_tried: tuple[str, ...]


def locate_face(rgb: np.ndarray, models: LoadedModels, config: FaceConfig,
                use_cnn: bool | None = None) -> LocatedFace | None:
    """The largest face in `rgb`, trying HOG then upsampled HOG then the CNN; None when no
    stage finds one. `use_cnn` overrides `config.cnn_fallback` (live frames pass False)."""
    work, scale = _shrunk(rgb, config.max_side_px)
    tried: list[str] = []
    faces: tuple[DetectedFace, ...] = ()
    for stage, upsample in _stages(config, max(work.shape[:2])):
        tried.append(stage)
        faces = detect_faces(work, models, upsample, config.min_detector_score)
        if faces:
            break
    cnn_allowed = config.cnn_fallback if use_cnn is None else use_cnn
    if not faces and cnn_allowed and CNN_MODEL_NAME in models.objects:
        small, cnn_scale = _shrunk(work, config.cnn_max_side_px)
        # Faces smaller than the CNN's ~80 px window after shrinking get one upsample.
        upsample = 1 if max(small.shape[:2]) < 400 else 0
        tried.append("cnn" if upsample == 0 else "cnn+upsample1")
        cnn_models = replace(models, face_detector=_CnnAsHog(models[CNN_MODEL_NAME]))
        faces = detect_faces(small, cnn_models, upsample, config.min_cnn_confidence)
        if faces:
            work, scale = small, scale * cnn_scale
    if not faces:
        return None
    return LocatedFace(work=work, face=faces[0], scale=scale, faces_found=len(faces),
                       stages_tried=tuple(tried))


def find_face(rgb: np.ndarray, models: LoadedModels, config: FaceConfig,
              use_cnn: bool | None = None) -> FoundFace | None:
    """The largest face in `rgb` (see `locate_face`), embedded by the configured embedder."""
    located = locate_face(rgb, models, config, use_cnn)
    if located is None:
        return None
    template = face_template(located.work, located.face, models,
                             num_jitters=config.num_jitters, detector=located.stages_tried[-1],
                             embedder=config.embedder, flip_tta=config.flip_tta)
    return FoundFace(template=template, scale=located.scale, faces_found=located.faces_found,
                     stages_tried=located.stages_tried)
