"""What covers or alters the face: glasses and glare on them, red eye, a head covering over
the forehead."""

from __future__ import annotations

import cv2
import numpy as np

from verifier.photo.analysis import PhotoAnalysis, Rect
from verifier.photo.result import CheckSettings, RequirementResult, judged, score_at_most, unknown


# A forehead pixel further than this (delta E, L* weighed half) from the cheeks' median
# colour is not bare skin.
_SKIN_DELTA_E = 15.0
# Glasses: the face is scaled to this inter-eye distance; a Sobel response above this (or
# 4x the context's median) is a strong vertical gradient.
_NORM_IED_PX = 64.0
_MIN_BAR_GRADIENT = 40.0
# Glare: a pixel this bright in every channel is a specular reflection (a lens, oily skin),
# not skin or the white of an eye, which stay below ~230 in a well exposed photo.
_GLARE_MIN_CHANNEL = 240


def _patch(image: np.ndarray, rect: Rect) -> np.ndarray:
    left, top, right, bottom = rect
    return image[top:bottom, left:right]


def glasses(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """A frame's bridge crosses the nose as a horizontal bar: some row between the eyes
    where most columns have a strong vertical gradient. Skin there shades sideways (the
    sides of the nose), not across. Value: the largest share of strong columns in a row."""
    threshold = s.thresholds.max_bridge_row_edge_share
    if not a.single_face or a.regions is None:
        return unknown("glasses", "share", threshold)
    f = a.faces[0]
    ied = f.inter_eye_distance_px
    cx, cy = f.eye_mid_px
    # Context around the bridge (for the gradient filter and the contrast reference),
    # scaled to 64 px between the eyes so the filter sees the same anatomy at any size.
    left, top = max(0, int(cx - 0.5 * ied)), max(0, int(cy - 0.5 * ied))
    context = a.grey[top:int(cy + 0.3 * ied), left:int(cx + 0.5 * ied)]
    bl, bt, br, bb = a.regions.nose_bridge
    if context.shape[0] < 8 or context.shape[1] < 8 or br <= bl or bb <= bt:
        return unknown("glasses", "share", threshold,
                       ("Wajah terlalu kecil untuk dinilai", "Face too small to assess"))
    k = _NORM_IED_PX / ied
    size = (max(8, round(context.shape[1] * k)), max(8, round(context.shape[0] * k)))
    norm = cv2.resize(context, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    gy = np.abs(cv2.Sobel(cv2.GaussianBlur(norm.astype(np.float32), (0, 0), 1.0), cv2.CV_32F, 0, 1,
                          ksize=3))
    strong = gy > max(_MIN_BAR_GRADIENT, 4.0 * float(np.median(gy)))
    band = strong[round((bt - top) * k):round((bb - top) * k),
                  round((bl - left) * k):round((br - left) * k)]
    value = float(band.mean(axis=1).max()) if band.size else 0.0
    return judged("glasses", value <= threshold, value, "share", score_at_most(value, threshold),
                  threshold, ("Tanpa kacamata", "No glasses"),
                  ("Lepas kacamata", "Remove your glasses"))


def glasses_glare(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Share of near-white pixels where the lenses would be, in the worse eye. The catch
    light of a ring light in the pupil covers well under 1 % of that area; a reflection on a
    lens hides part of the eye."""
    threshold = s.thresholds.max_lens_glare_share
    if not a.single_face or a.regions is None:
        return unknown("glasses_glare", "share", threshold)
    shares = []
    for rect in (a.regions.left_lens, a.regions.right_lens):
        rgb = _patch(a.rgb, rect)
        if rgb.size == 0:
            return unknown("glasses_glare", "share", threshold,
                           ("Mata tidak terlihat", "Eyes not visible"))
        shares.append(float((rgb.min(axis=2) >= _GLARE_MIN_CHANNEL).mean()))
    value = max(shares)
    return judged("glasses_glare", value <= threshold, value, "share",
                  score_at_most(value, threshold), threshold,
                  ("Tidak ada pantulan cahaya di mata", "No glare over the eyes"),
                  ("Pantulan cahaya di kacamata: miringkan kacamata sedikit atau ubah lampu",
                   "Glare on the glasses: tilt them slightly or move the light"))


def red_eye(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Share of strongly red pixels in the worse eye's pupil area."""
    threshold = s.thresholds.max_red_eye_share
    if not a.single_face or a.regions is None:
        return unknown("red_eye", "share", threshold)
    shares = []
    for rect in (a.regions.left_eye, a.regions.right_eye):
        rgb = _patch(a.rgb, rect).astype(np.int32)
        if rgb.size == 0:
            return unknown("red_eye", "share", threshold,
                           ("Mata tidak terlihat", "Eyes not visible"))
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        red = (r > 120) & (r > 2 * g) & (r > 2 * b)
        shares.append(float(red.mean()))
    value = max(shares)
    return judged("red_eye", value <= threshold, value, "share", score_at_most(value, threshold),
                  threshold, ("Tidak ada mata merah", "No red eye"),
                  ("Mata merah karena lampu kilat: foto ulang tanpa lampu kilat langsung",
                   "Red eye from the flash: retake without direct flash"))


def head_covering(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Share of the forehead that does not look like the cheeks' skin: a cap, a scarf or
    hair pulled over the forehead. A hijab that leaves the forehead visible passes."""
    threshold = s.thresholds.max_forehead_covered_share
    if not a.single_face or a.regions is None:
        return unknown("head_covering", "share", threshold)
    forehead = a.lab_region(a.regions.forehead)
    cheeks = np.concatenate([a.lab_region(a.regions.left_cheek),
                             a.lab_region(a.regions.right_cheek)])
    if len(forehead) == 0 or len(cheeks) == 0:
        return unknown("head_covering", "share", threshold,
                       ("Dahi tidak terlihat di gambar", "Forehead not in the image"))
    skin = np.median(cheeks, axis=0)
    # Lightness varies over a lit forehead more than hue does: weigh L* half.
    diff = (forehead - skin) * np.array([0.5, 1.0, 1.0], np.float32)
    value = float((np.linalg.norm(diff, axis=1) > _SKIN_DELTA_E).mean())
    return judged("head_covering", value <= threshold, value, "share",
                  score_at_most(value, threshold), threshold,
                  ("Dahi dan wajah terlihat", "Forehead and face visible"),
                  ("Dahi tertutup: lepas topi atau penutup kepala, rapikan rambut dari dahi "
                   "(jilbab boleh jika seluruh wajah terlihat)",
                   "Forehead covered: remove the hat or head covering, keep hair off the "
                   "forehead (a hijab is fine when the whole face shows)"))
