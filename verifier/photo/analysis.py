"""Face analysis once per image, shared by every requirement: detection, landmarks, head
pose, head extent (chin and crown) and the regions the requirements measure.

Regions come from the eye positions and the inter-eye distance (IED) with adult face
proportions measured on frontal portraits: the chin lies ~1.8 IED below the eye line, the
forehead 0.4-0.65 IED above it, the cheeks 0.25-0.95 IED below it. The crown is found in
the image (the first row above the head that looks like the background), because hair
volume varies too much to guess it. Everything here is plain numbers and numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from verifier.config import FramingConfig
from verifier.face.detection import DetectedFace, detect_faces, scaled, transformed
from verifier.face.mesh import DenseLandmarks, fit_dense_landmarks
from verifier.face.pose import HeadPose, estimate_head_pose
from verifier.imaging import DecodedImage
from verifier.models import LoadedModels

# Proportions in IED units (see the module docstring).
CHIN_BELOW_EYES_IED = 1.8
DEFAULT_CROWN_ABOVE_EYES_IED = 2.1
MAX_CROWN_ABOVE_EYES_IED = 3.2
HEAD_HALF_WIDTH_IED = 1.8
BACKGROUND_BELOW_EYES_IED = 0.9
# Colour measurements run on a copy with this longest side: region means and shares do not
# need more pixels, and Lab conversion of a 1200x1600 upload would cost ~30 ms.
_MEASURE_MAX_SIDE_PX = 400
# CIE76 delta E above which a pixel is "not background" when looking for the crown.
_CROWN_DELTA_E = 12.0
_WHITE_MIN_LIGHTNESS = 80.0
_WHITE_MAX_CHROMA = 10.0

Rect = tuple[int, int, int, int]  # left, top, right, bottom in full-image pixels


@dataclass(frozen=True)
class HeadGeometry:
    """Where the head is, in full-image pixels."""

    eye_mid_px: tuple[float, float]
    inter_eye_distance_px: float
    roll_deg: float  # from the eye line; > 0 when the head tilts clockwise in the image
    chin_px: tuple[float, float]
    crown_px: tuple[float, float]
    crown_found: bool  # False: background not distinct from hair, crown estimated instead
    crown_in_image: bool  # False: the head reaches the top edge (cut off)

    @property
    def head_height_px(self) -> float:
        return math.dist(self.chin_px, self.crown_px)


@dataclass(frozen=True)
class FaceRegions:
    """Rectangles the requirements measure (full-image pixels)."""

    face: Rect  # cheeks and nose: exposure, colour
    eye_band: Rect  # eyes and brows: sharpness (the finest detail, whatever the expression)
    left_cheek: Rect  # on the image's left
    right_cheek: Rect
    forehead: Rect
    left_eye: Rect
    right_eye: Rect
    nose_bridge: Rect
    left_lens: Rect  # where a spectacle lens would sit over each eye
    right_lens: Rect


@dataclass(frozen=True)
class PhotoAnalysis:
    width_px: int
    height_px: int
    faces: tuple[DetectedFace, ...]  # largest first
    pose: HeadPose | None  # of the main face
    head: HeadGeometry | None
    landmarks: DenseLandmarks | None  # of the main face: eyelids, lips
    regions: FaceRegions | None
    # Lab (L 0-100) of the image scaled by `measure_scale`, and where the background is.
    lab: np.ndarray
    measure_scale: float
    background_mask: np.ndarray | None  # bool, in `lab` coordinates
    grey: np.ndarray  # full resolution, uint8
    rgb: np.ndarray  # full resolution

    @property
    def main_face(self) -> DetectedFace | None:
        return self.faces[0] if self.faces else None

    @property
    def single_face(self) -> bool:
        return len(self.faces) == 1

    def lab_region(self, rect: Rect) -> np.ndarray:
        """Lab pixels (N x 3) of a full-image rectangle."""
        s = self.measure_scale
        h, w = self.lab.shape[:2]
        left, top = max(0, int(rect[0] * s)), max(0, int(rect[1] * s))
        right, bottom = min(w, int(math.ceil(rect[2] * s))), min(h, int(math.ceil(rect[3] * s)))
        return self.lab[top:bottom, left:right].reshape(-1, 3)


def _rect(cx: float, cy: float, x0: float, x1: float, y0: float, y1: float, ied: float,
          width: int, height: int) -> Rect:
    """Rectangle spanning [x0, x1] x [y0, y1] IED around (cx, cy), clipped to the image."""
    return (max(0, int(cx + x0 * ied)), max(0, int(cy + y0 * ied)),
            min(width, int(cx + x1 * ied)), min(height, int(cy + y1 * ied)))


def _regions(face: DetectedFace, width: int, height: int) -> FaceRegions:
    cx, cy = face.eye_mid_px
    ied = face.inter_eye_distance_px

    def r(x0: float, x1: float, y0: float, y1: float, ax: float = cx, ay: float = cy) -> Rect:
        return _rect(ax, ay, x0, x1, y0, y1, ied, width, height)

    lx, ly = face.left_eye_px
    rx, ry = face.right_eye_px
    return FaceRegions(
        face=r(-0.8, 0.8, 0.2, 1.0), eye_band=r(-0.8, 0.8, -0.35, 0.35),
        left_cheek=r(-0.85, -0.2, 0.25, 0.95), right_cheek=r(0.2, 0.85, 0.25, 0.95),
        forehead=r(-0.4, 0.4, -0.6, -0.4),
        left_eye=r(-0.22, 0.22, -0.13, 0.13, lx, ly),
        right_eye=r(-0.22, 0.22, -0.13, 0.13, rx, ry),
        nose_bridge=r(-0.125, 0.125, -0.18, 0.06),
        left_lens=r(-0.45, 0.45, -0.3, 0.35, lx, ly), right_lens=r(-0.45, 0.45, -0.3, 0.35, rx, ry))


def _lab(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, _MEASURE_MAX_SIDE_PX / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(
        rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab, small.shape[1] / w


def _background_mask(lab_shape: tuple[int, int], scale: float, head_centre: tuple[float, float],
                     half_width_px: float, half_height_px: float, bottom_y_px: float
                     ) -> np.ndarray:
    """Pixels above the mouth and outside an ellipse around the head (hair included); lower
    down, shoulders and collars reach into the sides of a tight passport crop."""
    h, w = lab_shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = head_centre[0] * scale, head_centre[1] * scale
    inside = (((xs - cx) / (half_width_px * scale)) ** 2
              + ((ys - cy) / (half_height_px * scale)) ** 2) <= 1.0
    return (~inside) & (ys < bottom_y_px * scale)


def _find_crown(lab: np.ndarray, scale: float, eye_mid: tuple[float, float], ied: float,
                background_lab: np.ndarray) -> tuple[float, bool, bool]:
    """Distance (px, full image) from the eye line up to the top of the head, whether it was
    found in the image, and whether the head stays below the top edge.

    Scans rows upwards above the face for the first one that looks like the backdrop. When
    the top rows above the head are backdrop, each column is compared with its own top
    pixels, so a shadow or gradient across the backdrop is not taken for hair."""
    h, w = lab.shape[:2]
    x0 = max(0, int((eye_mid[0] - 0.5 * ied) * scale))
    x1 = min(w, int(math.ceil((eye_mid[0] + 0.5 * ied) * scale)))
    eye_y = eye_mid[1] * scale
    start = int(eye_y - 1.2 * ied * scale)
    stop = int(eye_y - MAX_CROWN_ABOVE_EYES_IED * ied * scale)
    if x1 <= x0 or start <= 0:
        return DEFAULT_CROWN_ABOVE_EYES_IED * ied, False, start > 0
    # A darker photo has smaller colour differences everywhere: scale the threshold with
    # the backdrop's lightness (L* ~95 for a well exposed white backdrop).
    threshold = max(6.0, _CROWN_DELTA_E * float(background_lab[0]) / 95.0)
    top = np.median(lab[0:max(1, min(3, start)), x0:x1], axis=0)
    top_colour = np.median(top, axis=0)
    # Backdrop above the head: like the backdrop's median, or white on its own (a shadow
    # elsewhere on the backdrop pulls the median away from white).
    top_is_backdrop = bool(np.linalg.norm(top_colour - background_lab) <= threshold or (
        top_colour[0] >= _WHITE_MIN_LIGHTNESS and math.hypot(top_colour[1], top_colour[2])
        <= _WHITE_MAX_CHROMA))
    reference = top if top_is_backdrop else background_lab
    for y in range(start, max(stop, -1), -1):
        if y < 0:
            break
        differs = np.linalg.norm(lab[y, x0:x1] - reference, axis=1) > threshold
        if differs.mean() < 0.25:
            return (eye_y - y) / scale, True, True
    if stop < 0:
        return eye_y / scale, True, False  # hair all the way to the top edge
    return DEFAULT_CROWN_ABOVE_EYES_IED * ied, False, True


def _head(face: DetectedFace, lab: np.ndarray, scale: float
          ) -> tuple[HeadGeometry, np.ndarray]:
    ied = face.inter_eye_distance_px
    eye_mid = face.eye_mid_px
    roll = face.roll_deg
    # Face axis pointing down the face (towards the chin), in image coordinates.
    down = (-math.sin(math.radians(roll)), math.cos(math.radians(roll)))
    chin = (eye_mid[0] + down[0] * CHIN_BELOW_EYES_IED * ied,
            eye_mid[1] + down[1] * CHIN_BELOW_EYES_IED * ied)

    def mask_for(crown_up_ied: float) -> np.ndarray:
        half_h = (crown_up_ied + CHIN_BELOW_EYES_IED) * ied / 2 * 1.08
        centre_y = eye_mid[1] + (CHIN_BELOW_EYES_IED - crown_up_ied) * ied / 2
        return _background_mask(lab.shape[:2], scale, (eye_mid[0], centre_y),
                                HEAD_HALF_WIDTH_IED * ied, half_h,
                                eye_mid[1] + BACKGROUND_BELOW_EYES_IED * ied)

    first = mask_for(DEFAULT_CROWN_ABOVE_EYES_IED)
    if first.sum() >= 20:
        background_lab = np.median(lab[first], axis=0)
        up_px, found, in_image = _find_crown(lab, scale, eye_mid, ied, background_lab)
    else:
        up_px, found, in_image = DEFAULT_CROWN_ABOVE_EYES_IED * ied, False, True
    crown = (eye_mid[0] - down[0] * up_px, eye_mid[1] - down[1] * up_px)
    head = HeadGeometry(eye_mid_px=eye_mid, inter_eye_distance_px=ied, roll_deg=roll,
                        chin_px=chin, crown_px=crown, crown_found=found,
                        crown_in_image=in_image)
    return head, mask_for(max(up_px / ied, 1.5))


def _detect_upright_or_tilted(rgb: np.ndarray, models: LoadedModels, framing: FramingConfig
                              ) -> tuple[DetectedFace, ...]:
    """HOG's frontal model loses heads tilted more than about 12 deg, which is when the
    applicant most needs the "straighten your head" hint: with no face found, the image is
    searched again turned both ways by `tilted_retry_deg`."""
    faces = detect_faces(rgb, models, framing.detector_upsample, framing.min_detector_score)
    if faces or framing.tilted_retry_deg <= 0:
        return faces
    h, w = rgb.shape[:2]
    for angle in (framing.tilted_retry_deg, -framing.tilted_retry_deg):
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turned = cv2.warpAffine(rgb, turn, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        found = detect_faces(turned, models, framing.detector_upsample,
                             framing.min_detector_score)
        if found:
            back = cv2.invertAffineTransform(turn)
            return tuple(transformed(f, back) for f in found)
    return ()


def detect_scaled(rgb: np.ndarray, models: LoadedModels, framing: FramingConfig,
                  max_side_px: int) -> tuple[DetectedFace, ...]:
    """Faces of `rgb`, detected on a copy reduced to `max_side_px` when it is larger."""
    h, w = rgb.shape[:2]
    factor = max(h, w) / max_side_px
    if factor <= 1.0:
        return _detect_upright_or_tilted(rgb, models, framing)
    small = cv2.resize(rgb, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    return tuple(scaled(f, factor) for f in _detect_upright_or_tilted(small, models, framing))


def analyse_photo(image: DecodedImage, models: LoadedModels, framing: FramingConfig,
                  detection_max_side_px: int) -> PhotoAnalysis:
    rgb = image.rgb
    faces = detect_scaled(rgb, models, framing, detection_max_side_px)
    lab, scale = _lab(rgb)
    pose = head = regions = mask = landmarks = None
    if faces:
        face = faces[0]
        pose = estimate_head_pose(face, image.width_px, image.height_px)
        if face.inter_eye_distance_px >= 8:
            head, mask = _head(face, lab, scale)
            regions = _regions(face, image.width_px, image.height_px)
            landmarks = fit_dense_landmarks(rgb, face, models["face_mesh"],
                                            models["eye_contours"])
    return PhotoAnalysis(width_px=image.width_px, height_px=image.height_px, faces=faces,
                         pose=pose, head=head, landmarks=landmarks, regions=regions, lab=lab,
                         measure_scale=scale, background_mask=mask, grey=image.grey(), rgb=rgb)
