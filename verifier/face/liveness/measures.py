"""What one analysed frame tells the liveness check, from the photo engine's analysis:
eye openness (verifier.photo.expression), yaw (verifier.face.pose), the inter-eye distance
(its growth is the face coming closer) and the passive cues (verifier.face.liveness.passive)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.face.liveness.passive import border_around_face, screen_score
from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.expression import eye_openness

# Below this the mesh model does not see a face where the detector put one: no eye measure
# (the same gate as the photo requirements use).
_MIN_FACE_PRESENCE = 0.5


@dataclass(frozen=True)
class FrameMeasures:
    at_s: float  # when the frame was captured, s since the epoch
    sequence: int
    eye_openness: float | None  # of the less open eye; None when the eyes cannot be measured
    yaw_deg: float | None
    ied_px: float
    eye_mid_px: tuple[float, float]
    screen_score: float
    border: bool

    def to_record(self) -> dict[str, Any]:
        return {"at_s": round(self.at_s, 3), "sequence": self.sequence,
                "eye_openness": None if self.eye_openness is None else round(self.eye_openness, 4),
                "yaw_deg": None if self.yaw_deg is None else round(self.yaw_deg, 2),
                "ied_px": round(self.ied_px, 2),
                "eye_mid_px": [round(v, 1) for v in self.eye_mid_px],
                "screen_score": round(self.screen_score, 2), "border": self.border}

    @classmethod
    def from_record(cls, record: object) -> FrameMeasures | None:
        if not isinstance(record, dict):
            return None
        try:
            eyes, yaw = record.get("eye_openness"), record.get("yaw_deg")
            mid = record["eye_mid_px"]
            return cls(at_s=float(record["at_s"]), sequence=int(record["sequence"]),
                       eye_openness=None if eyes is None else float(eyes),
                       yaw_deg=None if yaw is None else float(yaw),
                       ied_px=float(record["ied_px"]),
                       eye_mid_px=(float(mid[0]), float(mid[1])),
                       screen_score=float(record["screen_score"]),
                       border=bool(record["border"]))
        except (KeyError, TypeError, ValueError, IndexError):
            return None


def frame_measures(analysis: PhotoAnalysis, at_s: float, sequence: int) -> FrameMeasures | None:
    """None when the frame shows no single face: it neither answers nor fails a challenge."""
    if not analysis.single_face:
        return None
    face = analysis.faces[0]
    lm = analysis.landmarks
    eyes = None
    if lm is not None and lm.face_presence >= _MIN_FACE_PRESENCE:
        eyes = min(eye_openness(lm.left_eye_contour_px), eye_openness(lm.right_eye_contour_px))
    return FrameMeasures(
        at_s=at_s, sequence=sequence, eye_openness=eyes,
        yaw_deg=analysis.pose.yaw_deg if analysis.pose is not None else None,
        ied_px=face.inter_eye_distance_px, eye_mid_px=face.eye_mid_px,
        screen_score=screen_score(analysis.grey, face.box),
        border=border_around_face(analysis.grey, face.box))
