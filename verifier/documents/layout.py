"""Canonical sizes of rectified documents and the few regions found by position, not text.

Rectification warps every document to these sizes, so the generator and the readers agree
on them. Text fields are found by their labels, not here; only the portrait and the MRZ
band have no label to anchor on. Boxes are fractions of width and height:
(left, top, right, bottom).
"""

from __future__ import annotations

# ID-1 card, 85.6 x 54 mm, at about 11.7 px/mm.
KTP_SIZE_PX = (1000, 630)
# Passport data page (TD3), 125 x 88 mm, at 10 px/mm.
PASSPORT_SIZE_PX = (1250, 880)
# A4 at 150 dpi.
AKTA_SIZE_PX = (1240, 1754)

KTP_PORTRAIT_BOX = (0.72, 0.235, 0.955, 0.73)
PASSPORT_PORTRAIT_BOX = (0.04, 0.17, 0.30, 0.68)
# ICAO 9303 part 4: the TD3 MRZ occupies the bottom 23.2 mm of the 88 mm page.
PASSPORT_MRZ_BAND = (0.0, 0.74, 1.0, 1.0)

SIZES_PX = {"ktp": KTP_SIZE_PX, "passport": PASSPORT_SIZE_PX, "akta": AKTA_SIZE_PX}
PORTRAIT_BOXES = {"ktp": KTP_PORTRAIT_BOX, "passport": PASSPORT_PORTRAIT_BOX}


def box_px(box: tuple[float, float, float, float], size_px: tuple[int, int]
           ) -> tuple[int, int, int, int]:
    w, h = size_px
    return (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))
