"""Background: plain and white, without texture or shadows behind the head.

Measured on the visible background (above the chin line, outside an ellipse around head
and hair) in CIE L*a*b*: a pixel counts as plain white when it is light enough, nearly
colourless and close to the background's own median. The value is the share that is not.
"""

from __future__ import annotations

import numpy as np

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import CheckSettings, RequirementResult, judged, score_at_most, unknown

# Local deviation (delta E) from the background median that counts as texture or shadow.
_DEVIATION_DELTA_E = 10.0
# Below this many pixels (in the measurement copy) the background is not assessable.
_MIN_PIXELS = 30


def background(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    t = s.thresholds
    threshold = t.max_background_non_white_share
    if not a.single_face or a.background_mask is None:
        return unknown("background", "share", threshold)
    pixels = a.lab[a.background_mask]
    if len(pixels) < _MIN_PIXELS:
        return unknown("background", "share", threshold,
                       ("Latar belakang tidak terlihat", "Background not visible"))
    chroma = np.hypot(pixels[:, 1], pixels[:, 2])
    median = np.median(pixels, axis=0)
    deviation = np.linalg.norm(pixels - median, axis=1)
    too_dark = pixels[:, 0] < t.min_background_lightness
    coloured = chroma > t.max_background_chroma
    uneven = deviation > _DEVIATION_DELTA_E
    bad = too_dark | coloured | uneven
    share = float(bad.mean())
    if float(np.hypot(median[1], median[2])) > t.max_background_chroma:
        failed = ("Latar belakang berwarna: gunakan latar putih polos",
                  "Background is coloured: use a plain white background")
    elif median[0] < t.min_background_lightness:
        failed = ("Latar belakang terlalu gelap atau abu-abu: gunakan latar putih yang terang",
                  "Background too dark or grey: use a bright white background")
    else:
        failed = ("Latar belakang tidak polos (motif atau bayangan di belakang kepala)",
                  "Background not plain (pattern or shadows behind the head)")
    return judged("background", share <= threshold, share, "share",
                  score_at_most(share, threshold), threshold,
                  ("Latar belakang putih polos", "Background is plain white"), failed)
