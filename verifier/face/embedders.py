"""Face embedders: the model that turns an aligned face into a vector, chosen by
`[face] embedder` (a registry name).

Every embedder follows one convention: two faces are compared by the Euclidean distance
between their vectors, lower is more alike, and a thresholds file measured on that model
file (its sha256) and that configuration (`flip_tta`) decides matches. Two implementations:

- `DlibResnetEmbedder` (the default, `face_recognition_resnet`): dlib's 150 px chip and
  `compute_face_descriptor`, exactly what the verifier always did.
- `GenericEmbedder`: any network a registry entry declares in its `embedding` table (input
  size, channel order, normalisation, a 5-point alignment template, output dimension), run by
  verifier.face.networks on onnxruntime (.onnx) or OpenCV dnn (other formats). Its vectors are
  scaled to unit length, so distances lie in 0-2 whatever the network's own scale.

Flip test-time augmentation (`flip_tta`) averages the vectors of the aligned chip and its
mirror image: twice the cost, and thresholds must be measured with it on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from lebong_contract.errors import ModelIntegrityError
from verifier.face.detection import DetectedFace
from verifier.models import LoadedModels

DLIB_RESNET = "face_recognition_resnet"
DLIB_DIMENSION = 128
DLIB_CHIP_SIZE_PX = 150  # the ResNet's input size
DLIB_CHIP_PADDING = 0.25  # dlib's default margin around the landmarks


def score_unit(name: str) -> str:
    """What a `Match` score of this embedder means."""
    return ("1-euclidean_distance(dlib_resnet_v1)" if name == DLIB_RESNET
            else f"1-euclidean_distance({name})")


@dataclass(frozen=True)
class EmbeddedFace:
    chip: np.ndarray  # HxWx3 uint8 RGB, aligned (eyes level): the evidence crop
    embedding: np.ndarray  # (dimension,) float32


class FaceEmbedder(Protocol):
    name: str  # registry name
    sha256: str  # of the model file: thresholds are bound to it
    dimension: int
    flip_tta: bool
    score_unit: str  # what a `Match` score means: "1-euclidean_distance(<model>)"

    def embed(self, rgb: np.ndarray, face: DetectedFace) -> EmbeddedFace:
        """The aligned chip and embedding of one detected face of an RGB image."""
        ...


def _checked(vector: np.ndarray, dimension: int, name: str) -> np.ndarray:
    if vector.shape != (dimension,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"face embedder {name} returned an unusable embedding of shape "
                         f"{vector.shape}; its registry entry declares {dimension}")
    return vector.astype(np.float32)


@dataclass(frozen=True)
class DlibResnetEmbedder:
    """dlib's ResNet on dlib's own 5-point chip (face_recognition's default alignment)."""

    encoder: Any  # dlib.face_recognition_model_v1
    landmarks_5: Any  # dlib.shape_predictor (5 points)
    sha256: str
    num_jitters: int = 1
    flip_tta: bool = False
    name: str = DLIB_RESNET
    dimension: int = DLIB_DIMENSION
    score_unit: str = score_unit(DLIB_RESNET)

    def embed(self, rgb: np.ndarray, face: DetectedFace) -> EmbeddedFace:
        import dlib

        box = face.box
        shape = self.landmarks_5(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
        chip = np.asarray(dlib.get_face_chip(rgb, shape, size=DLIB_CHIP_SIZE_PX,
                                             padding=DLIB_CHIP_PADDING))
        jitters = max(0, self.num_jitters)
        if self.flip_tta:
            # One batch of two: dlib runs it in about the time of one chip on these CPUs.
            both = np.asarray(self.encoder.compute_face_descriptor(
                [chip, np.ascontiguousarray(chip[:, ::-1])], jitters), dtype=np.float32)
            vector = (both[0] + both[1]) / 2
        else:
            vector = np.asarray(self.encoder.compute_face_descriptor(chip, jitters),
                                dtype=np.float32)
        return EmbeddedFace(chip=chip, embedding=_checked(vector, self.dimension, self.name))


@dataclass(frozen=True)
class EmbeddingSpec:
    """A registry entry's `embedding` table, checked."""

    input_size_px: int  # square input
    channel_order: str  # "RGB" or "BGR"
    # "mean_scale": (pixel - mean[c]) * scale[c]; "per_image": (pixel - mean) / std of the
    # whole chip (FaceNet's "prewhiten").
    normalisation: str
    mean: tuple[float, float, float]
    scale: tuple[float, float, float]
    # Where dlib's 5 landmarks (outer and inner corner of one eye, inner and outer corner of
    # the other, base of the nose) go in the input, in input pixels.
    template_px: tuple[tuple[float, float], ...]
    dimension: int

    @classmethod
    def parse(cls, name: str, table: Mapping[str, Any] | None) -> EmbeddingSpec:
        if not table:
            raise ModelIntegrityError(f"model {name} has no [models.{name}.embedding] table: "
                                      "it cannot be used as a face embedder")
        try:
            size = int(table["input_size_px"])
            order = str(table.get("channel_order", "RGB")).upper()
            normalisation = str(table["normalisation"])
            mean = tuple(float(v) for v in table.get("mean", (0.0, 0.0, 0.0)))
            scale = tuple(float(v) for v in table.get("scale", (1.0, 1.0, 1.0)))
            template = tuple((float(x), float(y)) for x, y in table["template_px"])
            dimension = int(table["dimension"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelIntegrityError(
                f"model {name}: embedding table is malformed ({exc!s}); it needs "
                "input_size_px, normalisation, template_px and dimension") from None
        problems = [text for bad, text in (
            (not 16 <= size <= 1024, f"input_size_px {size} is not 16-1024"),
            (order not in ("RGB", "BGR"), f"channel_order {order!r} is not RGB or BGR"),
            (normalisation not in ("mean_scale", "per_image"),
             f"normalisation {normalisation!r} is not mean_scale or per_image"),
            (len(mean) != 3 or len(scale) != 3, "mean and scale need 3 values each"),
            (len(template) != 5, f"template_px has {len(template)} points, not dlib's 5"),
            (dimension < 2, f"dimension {dimension} is too small"),
        ) if bad]
        if problems:
            raise ModelIntegrityError(f"model {name}: embedding table: {'; '.join(problems)}")
        return cls(input_size_px=size, channel_order=order, normalisation=normalisation,
                   mean=mean, scale=scale, template_px=template,  # type: ignore[arg-type]
                   dimension=dimension)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 rotation + uniform scale + translation taking `src` points closest (least
    squares, Umeyama 1991) to `dst`: alignment keeps the face's proportions."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, 1.0 if np.linalg.det(u) * np.linalg.det(vt) >= 0 else -1.0])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(sigma) @ sign) / (s ** 2).sum(axis=1).mean())
    return np.hstack([scale * rotation, (mu_d - scale * rotation @ mu_s)[:, None]])


@dataclass(frozen=True)
class GenericEmbedder:
    """A network declared in the registry (see `EmbeddingSpec`)."""

    network: Any  # verifier.face.networks OnnxNetwork, or a ModelPool of DnnNetwork
    landmarks_5: Any
    spec: EmbeddingSpec
    name: str
    sha256: str
    flip_tta: bool = False

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    @property
    def score_unit(self) -> str:
        return score_unit(self.name)

    def _landmarks(self, rgb: np.ndarray, face: DetectedFace) -> np.ndarray:
        if len(face.landmarks_px) == 5:
            return np.asarray(face.landmarks_px, dtype=np.float64)
        import dlib

        box = face.box
        shape = self.landmarks_5(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
        return np.asarray([(shape.part(i).x, shape.part(i).y) for i in range(5)], float)

    def _input(self, chip: np.ndarray) -> np.ndarray:
        x = chip.astype(np.float32)
        if self.spec.channel_order == "BGR":
            x = x[:, :, ::-1]
        if self.spec.normalisation == "per_image":
            x = (x - x.mean()) / max(float(x.std()), 1.0 / math.sqrt(x.size))
        else:
            x = (x - np.asarray(self.spec.mean, np.float32)) * np.asarray(self.spec.scale,
                                                                            np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    def embed(self, rgb: np.ndarray, face: DetectedFace) -> EmbeddedFace:
        import cv2

        size = self.spec.input_size_px
        matrix = similarity_transform(self._landmarks(rgb, face), np.asarray(self.spec.template_px))
        chip = cv2.warpAffine(np.ascontiguousarray(rgb), matrix, (size, size),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        chips = [chip, np.ascontiguousarray(chip[:, ::-1])] if self.flip_tta else [chip]
        # One chip a call: some converted graphs fix the batch size at 1.
        out = np.concatenate([self.network.forward(self._input(c)[None]) for c in chips])
        if out.ndim != 2 or out.shape[0] != len(chips):
            raise ValueError(f"face embedder {self.name} returned output of shape {out.shape}")
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if not np.all(norms > 0):
            raise ValueError(f"face embedder {self.name} returned a zero vector")
        vector = (out / norms).mean(axis=0)
        vector = vector / np.linalg.norm(vector)
        return EmbeddedFace(chip=chip, embedding=_checked(vector, self.dimension, self.name))


def face_embedder(models: LoadedModels, name: str = DLIB_RESNET, num_jitters: int = 1,
                  flip_tta: bool = False) -> FaceEmbedder:
    """The embedder a configuration names, over the models loaded at start-up; raises
    ModelIntegrityError when the registry lacks it or declares it wrongly."""
    verified = models.verified.get(name)
    if verified is None:
        raise ModelIntegrityError(f"face embedder {name} is not in the model registry")
    if name == DLIB_RESNET:
        return DlibResnetEmbedder(encoder=models[name], landmarks_5=models.landmarks_5,
                                  sha256=verified.entry.sha256, num_jitters=num_jitters,
                                  flip_tta=flip_tta)
    if num_jitters > 1:
        raise ModelIntegrityError(f"num_jitters {num_jitters} is dlib's; face embedder "
                                  f"{name} takes no jitter (set num_jitters = 1)")
    return GenericEmbedder(network=models[name], landmarks_5=models.landmarks_5,
                           spec=EmbeddingSpec.parse(name, verified.entry.embedding), name=name,
                           sha256=verified.entry.sha256, flip_tta=flip_tta)
