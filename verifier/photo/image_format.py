"""A finished photo file: aspect ratio of a passport print size and enough pixels for it."""

from __future__ import annotations

from verifier.photo.analysis import PhotoAnalysis
from verifier.photo.result import CheckSettings, RequirementResult, judged, score_at_least

_CM_PER_INCH = 2.54


def image_format(a: PhotoAnalysis, s: CheckSettings) -> RequirementResult:
    """Value: the print resolution (dpi) at the print size whose aspect ratio matches."""
    t = s.thresholds
    aspect = a.width_px / a.height_px
    sizes = [(float(w), float(h)) for w, h in t.print_sizes_cm]
    names = " atau ".join(f"{w:g}x{h:g} cm" for w, h in sizes)
    names_en = " or ".join(f"{w:g}x{h:g} cm" for w, h in sizes)
    width_cm, height_cm = min(sizes, key=lambda wh: abs(wh[0] / wh[1] - aspect))
    if abs(width_cm / height_cm - aspect) > t.max_aspect_error:
        return judged("image_format", False, 0.0, "dpi", 0.0, t.min_print_dpi, ("", ""),
                      (f"Perbandingan sisi {a.width_px}x{a.height_px} px bukan ukuran pas foto "
                       f"({names}): potong foto sesuai ukuran",
                       f"Aspect ratio {a.width_px}x{a.height_px} px is not a passport print size "
                       f"({names_en}): crop the photo to size"))
    dpi = a.height_px / (height_cm / _CM_PER_INCH)
    need_px = round(t.min_print_dpi * height_cm / _CM_PER_INCH)
    return judged("image_format", dpi >= t.min_print_dpi, dpi, "dpi",
                  score_at_least(dpi, t.min_print_dpi), t.min_print_dpi,
                  (f"Ukuran {width_cm:g}x{height_cm:g} cm, resolusi cukup",
                   f"{width_cm:g}x{height_cm:g} cm, resolution sufficient"),
                  (f"Resolusi terlalu rendah untuk {width_cm:g}x{height_cm:g} cm: tinggi "
                   f"{a.height_px} px, minimal {need_px} px",
                   f"Resolution too low for {width_cm:g}x{height_cm:g} cm: {a.height_px} px "
                   f"high, at least {need_px} px"))
