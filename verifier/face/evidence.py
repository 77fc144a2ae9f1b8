"""The face an item carries, computed once when the item arrives: a document's portrait or
the accepted live capture. The case rules compare these records at Finish, so Finish decodes
no image and runs no detector.

A record is plain JSON (stored sealed with the item's result): the embedding as base64
little-endian float32, the face box in the stored image's pixels, the quality score and the
detector stage that found it. An item searched without success stores `{"found": false}` so
that "no face on the KTP" is evidence too, not a missing value.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

from verifier.config import FaceConfig
from verifier.face.document_faces import find_face
from verifier.models import LoadedModels


MAX_EMBEDDING_DIM = 4096


@dataclass(frozen=True)
class FaceEvidence:
    embedding: np.ndarray  # (dimension,) float32: 128 for dlib's ResNet
    box_px: tuple[int, int, int, int]  # left, top, right, bottom in the stored image
    quality: float  # 0-100 (verifier.face.embedding.FaceQuality.score)
    detector: str  # the detection stage that found it: "hog", "hog+upsample1", "cnn", ...

    def to_record(self) -> dict[str, Any]:
        return {"found": True,
                "embedding_f32_b64": base64.b64encode(
                    self.embedding.astype("<f4").tobytes()).decode("ascii"),
                "box_px": list(self.box_px), "quality": round(self.quality, 1),
                "detector": self.detector}

    @classmethod
    def from_record(cls, record: Any) -> FaceEvidence | None:
        """None for a record of a search that found no face, and for anything malformed
        (a record written by another version is not trusted to hold an embedding)."""
        if not isinstance(record, dict) or not record.get("found"):
            return None
        try:
            vector = np.frombuffer(base64.b64decode(record["embedding_f32_b64"]), dtype="<f4")
            box = tuple(int(v) for v in record["box_px"])
            quality, detector = float(record["quality"]), str(record["detector"])
        except (KeyError, TypeError, ValueError):
            return None
        # Any embedder's dimension: comparing vectors of two models is refused by the matcher.
        if not 2 <= vector.size <= MAX_EMBEDDING_DIM or not np.all(np.isfinite(vector)) \
                or len(box) != 4:
            return None
        return cls(embedding=vector.astype(np.float32), box_px=box,  # type: ignore[arg-type]
                   quality=quality, detector=detector)


NOT_FOUND: dict[str, Any] = {"found": False}


def face_evidence(rgb: np.ndarray, models: LoadedModels, config: FaceConfig,
                  live: bool) -> FaceEvidence | None:
    """The largest face of an image, embedded. A live capture already passed HOG framing,
    so the slow CNN stage is for document photos only."""
    found = find_face(rgb, models, config, use_cnn=False if live else None)
    if found is None:
        return None
    template = found.template
    return FaceEvidence(embedding=template.embedding, box_px=found.box_in_source_px(),
                        quality=float(template.quality.score), detector=template.detector)
