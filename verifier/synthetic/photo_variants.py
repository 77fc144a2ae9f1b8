"""Labelled passport-photo variants: a compliant photo and controlled changes to it, each
with the requirements it must fail.

A base is a real portrait whose person mask is known (GrabCut for the bundled astronaut;
the benchmark segments other photos the same way), placed on a white backdrop and cut to
the passport geometry. Each variant changes one thing; `must_fail` names the requirements
that change breaks, `may_fail` the ones it may legitimately affect too (darkening a photo
also darkens its background). Every other requirement must still pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from verifier.config import UPLOAD_REQUIREMENTS, CaptureConfig
from verifier.photo.analysis import CHIN_BELOW_EYES_IED, HeadGeometry
from verifier.photo.crop import passport_photo
from verifier.synthetic.frames import BACKDROP_RGB, portrait

# Upload photos: 3x4 cm at 600x800 px (508 dpi), head 75 % of the height.
BASE_CAPTURE = CaptureConfig(output_height_px=800)
# Astronaut's eye centres on the original 512x512 image (dlib 5-point, measured once).
_ASTRONAUT_EYES = ((203.5, 102.0), (246.0, 104.5))
_ASTRONAUT_CROP_ORIGIN = (80, 0)


@dataclass(frozen=True)
class PhotoBase:
    """A compliant passport photo and what is known about it."""

    name: str
    rgb: np.ndarray
    person_mask: np.ndarray  # float 0-1, 1 on the person
    left_eye_px: tuple[float, float]  # centre of the eye on the image's left
    right_eye_px: tuple[float, float]

    @property
    def inter_eye_distance_px(self) -> float:
        return math.dist(self.left_eye_px, self.right_eye_px)


@dataclass(frozen=True)
class Variant:
    name: str
    rgb: np.ndarray
    must_fail: frozenset[str]
    may_fail: frozenset[str] = field(default_factory=frozenset)
    jpeg_quality: int = 95  # how the variant is saved


def base_from_portrait(name: str, rgb: np.ndarray, person_mask: np.ndarray,
                       left_eye: tuple[float, float], right_eye: tuple[float, float],
                       capture: CaptureConfig = BASE_CAPTURE) -> PhotoBase:
    """Put a segmented portrait on the white backdrop and cut it to passport geometry. The
    crown is the top of the person mask above the eyes; the chin follows face proportions."""
    backdrop = np.empty_like(rgb, dtype=np.float32)
    backdrop[:] = BACKDROP_RGB
    m = person_mask[..., None].astype(np.float32)
    on_white = np.clip(rgb * m + backdrop * (1 - m) + 0.5, 0, 255).astype(np.uint8)
    eye_mid = ((left_eye[0] + right_eye[0]) / 2, (left_eye[1] + right_eye[1]) / 2)
    ied = math.dist(left_eye, right_eye)
    roll = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    band = person_mask[:, max(0, int(eye_mid[0] - 0.3 * ied)):int(eye_mid[0] + 0.3 * ied)]
    rows = np.nonzero((band > 0.5).mean(axis=1) > 0.5)[0]
    crown_y = float(rows[0]) if len(rows) else eye_mid[1] - 2.1 * ied
    head = HeadGeometry(eye_mid_px=eye_mid, inter_eye_distance_px=ied, roll_deg=roll,
                        chin_px=(eye_mid[0], eye_mid[1] + CHIN_BELOW_EYES_IED * ied),
                        crown_px=(eye_mid[0], crown_y), crown_found=True, crown_in_image=True)
    photo = passport_photo(on_white, head, capture)
    mask = passport_photo(np.repeat(person_mask[..., None], 3, axis=2).astype(np.float32),
                          head, capture)[..., 0]
    # Where the eyes land: the crop maps the eye midpoint to a known point, scaled by s.
    scale = capture.output_height_px * capture.head_height_ratio / head.head_height_px
    out_w = round(capture.output_height_px * capture.aspect_width_per_height)
    mid_out = (out_w / 2, capture.crown_margin_ratio * capture.output_height_px
               + (eye_mid[1] - crown_y) * scale)
    half = ied * scale / 2
    return PhotoBase(name=name, rgb=photo, person_mask=np.clip(mask, 0, 1),
                     left_eye_px=(mid_out[0] - half, mid_out[1]),
                     right_eye_px=(mid_out[0] + half, mid_out[1]))


def astronaut_base(smiling: bool = False) -> PhotoBase:
    rgb, mask = portrait(smiling=smiling)
    ox, oy = _ASTRONAUT_CROP_ORIGIN
    # portrait() already sits on the backdrop; the mask still marks the person.
    left, right = ((x - ox, y - oy) for x, y in _ASTRONAUT_EYES)
    return base_from_portrait("astronaut", rgb, mask, left, right)


# -- the controlled changes -------------------------------------------------------------------

def _background(base: PhotoBase, colour_or_image: np.ndarray) -> np.ndarray:
    m = base.person_mask[..., None]
    out = base.rgb.astype(np.float32) * m + colour_or_image.astype(np.float32) * (1 - m)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def recoloured_background(base: PhotoBase, rgb: tuple[int, int, int] = (150, 190, 235)
                          ) -> np.ndarray:
    return _background(base, np.broadcast_to(np.array(rgb, np.float32), base.rgb.shape))


def textured_background(base: PhotoBase, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = base.rgb.shape[:2]
    blobs = cv2.resize(rng.random((h // 40 + 1, w // 40 + 1)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    tex = np.clip(243 - 90 * blobs, 0, 255)[..., None] * np.array([1.0, 0.97, 0.9])
    return _background(base, tex)


def shadowed_background(base: PhotoBase) -> np.ndarray:
    """A shadow cast on the backdrop beside the head, as from a single flash."""
    h, w = base.rgb.shape[:2]
    xs = np.linspace(0, 1, w, dtype=np.float32)
    shade = (243 - 110 * np.clip((xs - 0.5) * 2.2, 0, 1))[None, :, None]
    return _background(base, np.broadcast_to(shade, (h, w, 3)).copy())


def blurred(base: PhotoBase) -> np.ndarray:
    return cv2.GaussianBlur(base.rgb, (0, 0), 0.045 * base.inter_eye_distance_px)


def exposed(base: PhotoBase, gain: float) -> np.ndarray:
    return np.clip(base.rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def rolled(base: PhotoBase, degrees: float) -> np.ndarray:
    h, w = base.rgb.shape[:2]
    mid = ((base.left_eye_px[0] + base.right_eye_px[0]) / 2, base.left_eye_px[1])
    m = cv2.getRotationMatrix2D(mid, degrees, 1.0)
    return cv2.warpAffine(base.rgb, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def zoomed(base: PhotoBase, factor: float) -> np.ndarray:
    """Same image size, content scaled about the eyes: > 1 crops too tight, < 1 too loose."""
    h, w = base.rgb.shape[:2]
    mid = ((base.left_eye_px[0] + base.right_eye_px[0]) / 2, base.left_eye_px[1])
    m = cv2.getRotationMatrix2D(mid, 0.0, factor)
    return cv2.warpAffine(base.rgb, m, (w, h), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=BACKDROP_RGB)


def scaled_image(base: PhotoBase, factor: float) -> np.ndarray:
    h, w = base.rgb.shape[:2]
    return cv2.resize(base.rgb, (round(w * factor), round(h * factor)),
                      interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def with_glasses(base: PhotoBase, tinted: bool = False, glare: bool = False) -> np.ndarray:
    """Dark rims around both eyes joined by a bridge over the nose; with `glare`, a lamp's
    reflection over the upper outer part of the image-left lens."""
    out = base.rgb.copy()
    ied = base.inter_eye_distance_px
    if glare:
        x, y = base.left_eye_px
        spot = np.zeros(out.shape[:2], np.float32)
        cv2.ellipse(spot, (round(x - 0.12 * ied), round(y - 0.08 * ied)),
                    (max(2, round(0.2 * ied)), max(1, round(0.11 * ied))), -20, 0, 360, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), max(0.5, 0.02 * ied))[..., None]
        out = np.clip(out * (1 - spot) + 252.0 * spot, 0, 255).astype(np.uint8)
    thick = max(2, round(0.05 * ied))
    axes = (round(0.38 * ied), round(0.27 * ied))
    for x, y in (base.left_eye_px, base.right_eye_px):
        if tinted:
            overlay = out.copy()
            cv2.ellipse(overlay, (round(x), round(y)), axes, 0, 0, 360, (40, 40, 40), -1)
            out = cv2.addWeighted(overlay, 0.45, out, 0.55, 0)
        cv2.ellipse(out, (round(x), round(y)), axes, 0, 0, 360, (25, 20, 20), thick, cv2.LINE_AA)
    y = round(base.left_eye_px[1] - 0.08 * ied)
    cv2.line(out, (round(base.left_eye_px[0] + axes[0]), y),
             (round(base.right_eye_px[0] - axes[0]), y), (25, 20, 20), thick, cv2.LINE_AA)
    return out


def eyes_closed(base: PhotoBase) -> np.ndarray:
    """Both eyes shut: the eye openings filled in from the skin around them (inpainting) and
    a line of lashes where the lids meet. Cruder than a real closed eye, but the lids are
    where they would be."""
    out = base.rgb.copy()
    ied = base.inter_eye_distance_px
    shut = np.zeros(out.shape[:2], np.uint8)
    for x, y in (base.left_eye_px, base.right_eye_px):
        cv2.ellipse(shut, (round(x), round(y)), (round(0.3 * ied), round(0.15 * ied)), 0, 0, 360,
                    255, -1)
    out = cv2.inpaint(out, shut, max(3, round(0.1 * ied)), cv2.INPAINT_TELEA)
    for x, y in (base.left_eye_px, base.right_eye_px):
        cv2.ellipse(out, (round(x), round(y)), (round(0.24 * ied), round(0.06 * ied)), 0, 10, 170,
                    (70, 50, 45), max(2, round(0.03 * ied)), cv2.LINE_AA)
    # Soften the painted lids only, as the camera would.
    soft = cv2.GaussianBlur(out, (0, 0), 0.8)
    near = cv2.dilate(shut, np.ones((5, 5), np.uint8)) > 0
    out[near] = soft[near]
    return out


def with_cap(base: PhotoBase) -> np.ndarray:
    """A cap covering the hair and the forehead down to the eyebrows."""
    out = base.rgb.copy()
    ied = base.inter_eye_distance_px
    mx = (base.left_eye_px[0] + base.right_eye_px[0]) / 2
    brow_y = base.left_eye_px[1] - 0.3 * ied
    cv2.ellipse(out, (round(mx), round(brow_y)), (round(1.45 * ied), round(1.9 * ied)), 0, 180,
                360, (40, 60, 120), -1, cv2.LINE_AA)
    cv2.rectangle(out, (round(mx - 1.6 * ied), round(brow_y - 0.1 * ied)),
                  (round(mx + 1.6 * ied), round(brow_y + 0.05 * ied)), (30, 45, 95), -1)
    return out


def colour_cast(base: PhotoBase, gains: tuple[float, float, float] = (0.75, 0.95, 1.3)
                ) -> np.ndarray:
    return np.clip(base.rgb.astype(np.float32) * np.array(gains), 0, 255).astype(np.uint8)


def greyscale(base: PhotoBase) -> np.ndarray:
    grey = cv2.cvtColor(base.rgb, cv2.COLOR_RGB2GRAY)
    return np.repeat(grey[..., None], 3, axis=2)


def side_lit(base: PhotoBase) -> np.ndarray:
    """Light from the image's right: the left half of the face falls into shadow."""
    h, w = base.rgb.shape[:2]
    ied = base.inter_eye_distance_px
    mx = (base.left_eye_px[0] + base.right_eye_px[0]) / 2
    xs = np.arange(w, dtype=np.float32)
    gain = 1.0 - 0.5 * np.clip((mx + 0.3 * ied - xs) / (0.8 * ied), 0, 1)
    m = base.person_mask[..., None]
    lit = base.rgb.astype(np.float32) * (m * gain[None, :, None] + (1 - m))
    return np.clip(lit, 0, 255).astype(np.uint8)


def red_eyes(base: PhotoBase) -> np.ndarray:
    out = base.rgb.copy()
    r = max(2, round(0.07 * base.inter_eye_distance_px))
    for x, y in (base.left_eye_px, base.right_eye_px):
        cv2.circle(out, (round(x), round(y)), r, (215, 30, 25), -1, cv2.LINE_AA)
    return out


def two_faces(base: PhotoBase) -> np.ndarray:
    """A second person behind the applicant (the same face, smaller, in the top corner)."""
    out = base.rgb.copy()
    h, w = out.shape[:2]
    ied = base.inter_eye_distance_px
    mx = (base.left_eye_px[0] + base.right_eye_px[0]) / 2
    my = base.left_eye_px[1]
    face = base.rgb[max(0, int(my - 1.6 * ied)):int(my + 2.0 * ied),
                    max(0, int(mx - 1.5 * ied)):int(mx + 1.5 * ied)]
    small = cv2.resize(face, (max(1, int(face.shape[1] * 0.55)), max(1, int(face.shape[0] * 0.55))),
                       interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    out[0:min(sh, h), w - min(sw, w):w] = small[:min(sh, h), :min(sw, w)]
    return out


# Every requirement of the upload profile: what a second face may break.
ALL = frozenset(UPLOAD_REQUIREMENTS)


def variants(base: PhotoBase) -> list[Variant]:
    """The compliant photo, changes that keep it compliant, and one labelled change each."""
    def v(name: str, fn: Callable[[], np.ndarray], must: set[str], may: set[str] | None = None,
          quality: int = 95) -> Variant:
        return Variant(f"{base.name}/{name}", fn(), frozenset(must), frozenset(may or ()),
                       quality)

    return [
        v("compliant", lambda: base.rgb, set()),
        v("recompressed_q75", lambda: base.rgb, set(), quality=75),
        v("rescaled_0.8", lambda: scaled_image(base, 0.8), set()),
        v("background_blue", lambda: recoloured_background(base), {"background"}),
        v("background_grey", lambda: recoloured_background(base, (150, 150, 150)),
          {"background"}),
        v("background_textured", lambda: textured_background(base), {"background"}),
        v("background_shadow", lambda: shadowed_background(base), {"background"}),
        v("blurred", lambda: blurred(base), {"sharpness"}, {"compression", "glasses"}),
        v("underexposed", lambda: exposed(base, 0.35), {"exposure"},
          {"background", "natural_colour", "sharpness"}),
        # Bleached hair merges with the white backdrop: the crown is not measurable; skin
        # clipped to white around the eyes is what glare looks like.
        v("overexposed", lambda: exposed(base, 1.6), {"exposure"},
          {"natural_colour", "sharpness", "illumination", "head_covering", "head_size",
           "glasses_glare"}),
        v("roll_15", lambda: rolled(base, 15), {"roll"}, {"background", "head_size"}),
        v("roll_-15", lambda: rolled(base, -15), {"roll"}, {"background", "head_size"}),
        v("crop_tight", lambda: zoomed(base, 1.35), {"head_size"}, {"eye_height", "background"}),
        v("crop_loose", lambda: zoomed(base, 0.7), {"head_size"},
          {"eye_height", "inter_eye_distance", "background"}),
        v("jpeg_q8", lambda: base.rgb, {"compression"},
          {"sharpness", "background", "glasses", "natural_colour", "head_covering"}, quality=8),
        v("too_small", lambda: scaled_image(base, 0.4), {"image_format", "inter_eye_distance"},
          {"compression", "sharpness", "glasses"}),
        v("glasses", lambda: with_glasses(base), {"glasses"}, {"red_eye"}),
        v("glasses_glare", lambda: with_glasses(base, glare=True), {"glasses", "glasses_glare"},
          {"red_eye"}),
        v("tinted_glasses", lambda: with_glasses(base, tinted=True), {"glasses"},
          {"red_eye", "exposure", "illumination"}),
        v("eyes_closed", lambda: eyes_closed(base), {"eyes_open"}),
        v("cap", lambda: with_cap(base), {"head_covering"},
          {"head_size", "eye_height", "background"}),
        v("colour_cast", lambda: colour_cast(base), {"natural_colour"}, {"background"}),
        v("greyscale", lambda: greyscale(base), {"natural_colour"}),
        v("side_light", lambda: side_lit(base), {"illumination"}, {"exposure"}),
        v("red_eye", lambda: red_eyes(base), {"red_eye"}),
        v("two_faces", lambda: two_faces(base), {"single_face"}, set(ALL)),
    ]
