"""Find a card or page in a photo or scan and warp it to its canonical size.

The document is the largest convex quadrilateral among the image's edge contours. Where glare,
shadow or noise break its outline, or a corner lies outside the photo, the quadrilateral is
rebuilt from the four longest sides of the convex hull of the largest edge blob. When neither
is found (a tight scan or crop), the whole image is taken as the document. Long side
horizontal for cards and passport pages, vertical for A4; the remaining 180-degree ambiguity
is settled by the caller (`orientation.photo_side_up`, `rotated_180`), which knows what the
document should look like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from verifier.documents.layout import SIZES_PX
from verifier.documents.textdet import detect_text

# Work on a downscaled copy: edges of a card are long, fine detail only adds clutter.
_DETECT_SIDE_PX = 900
# A quadrilateral smaller than this share of the image is a detail, not the document; where
# the text detector confirms it holds the text, down to the second share (a card 20 % of
# the photo's width on a cluttered table).
_MIN_AREA_RATIO = 0.12
_MIN_TEXT_AREA_RATIO = 0.03
# The rebuilt outline is trusted on a document photographed to fill a good part of the photo
# (a card at the counter fills 40-80 %); smaller blobs are a photo or a stamp on it.
_MIN_HULL_AREA_RATIO = 0.25
# Hull simplification (share of its perimeter) and the share of the rebuilt quadrilateral
# the hull must fill (a corner outside the photo leaves a few per cent unfilled).
_HULL_EPS = 0.005
_HULL_FILL = 0.85
# An outline with a corner hidden (by a thumb) still fills this share of its convex hull;
# an approximation its hull exceeds by more than this ratio leaves part of the card out.
_SOLIDITY = 0.9
_MAX_OUTSIDE = 1.025
# Grey levels between the paper just inside a rebuilt outline and the table just outside it,
# in bands this wide (px on the downscaled copy).
_MIN_BORDER_CONTRAST = 40.0
_BAND_PX = 6
# Text detection on the downscaled copy, and the share of the detected text's area a
# quadrilateral must hold to be the document.
_TEXT_DETECT_SIDE_PX = 480
_MIN_TEXT_INSIDE = 0.6
# A text line with one end inside the quadrilateral and the other outside is cut by it; an
# outline may cut lines holding at most this share of the text it holds (a photo's edge or a
# thumb over the card can make a line look cut).
_MAX_TEXT_CUT = 0.15
# A run's ends are taken this share of the box's width inside it.
_RUN_INSET = 0.05
# An outline whose long sides are less than this many times its short ones (an ID-1 card is
# 1.59, an A4 page 1.41) leaves the text's direction to decide which way it lies; a box this
# many times taller than wide is a line of text running down the image.
_CLEAR_ASPECT = 1.3
_LINE_ASPECT = 2.0


@dataclass(frozen=True)
class Rectified:
    image: np.ndarray  # RGB at the canonical size of the kind
    quad_px: tuple[tuple[float, float], ...]  # document corners in the input, tl tr br bl
    found: bool  # False: no quadrilateral, the whole image was used
    # The photo's text lines moved onto `image` (None: text not detected).
    text_boxes_px: tuple[tuple[int, int, int, int], ...] | None = None


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl in image terms (smallest x+y first, then clockwise)."""
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates, starting anywhere
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _intersection(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray
                  ) -> np.ndarray | None:
    """Where the line through p1 along d1 meets the line through p2 along d2."""
    matrix = np.array([d1, -d2]).T
    if abs(np.linalg.det(matrix)) < 1e-6:
        return None
    t = np.linalg.solve(matrix, p2 - p1)
    return p1 + t[0] * d1


def _refine_corners(contour: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Corners where lines fitted to the middle of each side meet. Rounded card corners pull
    a polygon's vertices inwards; the straight parts of the sides do not lie."""
    points = contour.reshape(-1, 2).astype(np.float32)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        length = float(np.linalg.norm(b - a))
        direction = (b - a) / max(length, 1e-6)
        rel = points - a
        along = rel @ direction
        across = np.abs(rel @ np.array([-direction[1], direction[0]]))
        near = points[(along > 0.2 * length) & (along < 0.8 * length) & (across < 0.03 * length)]
        if len(near) < 5:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    refined = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        corner = _intersection(p1, d1, p2, d2)
        if corner is None:
            return quad
        refined.append(corner)
    result = np.array(refined, np.float32)
    # A refinement that moves a corner far is a misfit, not a better corner.
    if np.abs(result - quad).max() > 0.1 * float(np.linalg.norm(quad[2] - quad[0])):
        return quad
    return result


def _approx_quad(contour: np.ndarray, eps: float) -> np.ndarray | None:
    """The contour as a convex quadrilateral at tolerance `eps` (share of its perimeter),
    unless part of the outline lies outside it (a thumb over a corner bends the outline
    inwards there, and the coarse approximation cuts the card's edge off)."""
    approx = cv2.approxPolyDP(contour, eps * cv2.arcLength(contour, True), True)
    if len(approx) != 4 or not cv2.isContourConvex(approx) \
            or cv2.contourArea(contour) <= 0.95 * cv2.contourArea(approx) \
            or cv2.contourArea(cv2.convexHull(contour)) > _MAX_OUTSIDE * cv2.contourArea(approx):
        return None
    return _refine_corners(contour, _order_corners(approx.reshape(4, 2).astype(np.float32)))


def _solid_hull_quad(contour: np.ndarray) -> np.ndarray | None:
    """A thumb or the photo's edge over a corner: the outline's hull has the corner cut off,
    and its four longest sides still meet where the corner is. Only for an outline that is
    all but convex: a blob of print is not."""
    if cv2.contourArea(contour) < _SOLIDITY * cv2.contourArea(cv2.convexHull(contour)):
        return None
    return _hull_sides_quad(contour)


def _largest_quad(channel: np.ndarray, holds_text: Callable[[np.ndarray], bool],
                  min_area_ratio: float) -> np.ndarray | None:
    """The largest convex quadrilateral outlined by `channel`'s edges (tl tr br bl) that
    `holds_text` and covers at least `min_area_ratio` of the image."""
    grey = cv2.GaussianBlur(channel, (5, 5), 0)
    edges = cv2.Canny(grey, 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    # RETR_LIST keeps the inner side of the document's edge band as its own contour, so a
    # table object touching the document's edge does not merge into it.
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    min_area = min_area_ratio * channel.shape[0] * channel.shape[1]
    large = [c for c in sorted(contours, key=cv2.contourArea, reverse=True)[:12]
             if cv2.contourArea(c) >= min_area]
    # The tightest fit wins: a contour merged with a pen lying against the card only becomes
    # a quadrilateral at a coarse tolerance; one with a thumb over a corner is rebuilt from
    # its hull's sides.
    for eps in (0.01, 0.02, None, 0.03):
        for contour in large:
            quad = _approx_quad(contour, eps) if eps else _solid_hull_quad(contour)
            if quad is not None and holds_text(quad):
                return quad
    for contour in large:
        # Rounded corners or a glare blob on an edge: the minimum-area rectangle still fits.
        rect = cv2.boxPoints(cv2.minAreaRect(contour))
        if cv2.contourArea(contour) > 0.95 * cv2.contourArea(rect):
            quad = _order_corners(rect.astype(np.float32))
            if holds_text(quad):
                return quad
    return None


def _four_longest_sides(polygon: np.ndarray) -> np.ndarray | None:
    """The quadrilateral bounded by a convex polygon's four longest sides. A corner cut off
    by the photo's edge or rounded away leaves a short side; the long sides' lines still
    meet where the corner is."""
    pts = polygon.reshape(-1, 2).astype(np.float64)
    n = len(pts)
    if n < 4:
        return None
    lengths = [float(np.linalg.norm(pts[(i + 1) % n] - pts[i])) for i in range(n)]
    keep = sorted(sorted(range(n), key=lambda i: -lengths[i])[:4])
    corners = []
    for a, b in zip(keep, keep[1:] + keep[:1]):
        corner = _intersection(pts[a], pts[(a + 1) % n] - pts[a],
                               pts[b], pts[(b + 1) % n] - pts[b])
        if corner is None:
            return None
        corners.append(corner)
    quad = np.array(corners, np.float32)
    return quad if cv2.isContourConvex(quad.reshape(-1, 1, 2)) else None


def _hull_sides_quad(contour: np.ndarray) -> np.ndarray | None:
    """The quadrilateral of the four longest sides of `contour`'s convex hull, when it
    encloses the hull snugly (otherwise its sides belong to something else, such as table
    texture merged with the card)."""
    hull = cv2.convexHull(contour)
    approx = cv2.approxPolyDP(hull, _HULL_EPS * cv2.arcLength(hull, True), True)
    quad = _four_longest_sides(approx)
    if quad is None or cv2.contourArea(hull) < _HULL_FILL * cv2.contourArea(quad):
        return None
    return _refine_corners(contour, _order_corners(quad))


def _hull_quad(channel: np.ndarray) -> np.ndarray | None:
    """The document as the largest blob of edges: text and photo edges join the document's
    outline into one blob whose convex hull is the document even where a stretch of the
    outline is lost to glare or shadow (the hull spans the gap)."""
    grey = cv2.GaussianBlur(channel, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(grey, 30, 90), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    blob = max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c)))
    if cv2.contourArea(cv2.convexHull(blob)) < _MIN_HULL_AREA_RATIO * channel.size:
        return None
    quad = _hull_sides_quad(blob)
    if quad is None:
        return None
    # On a tightly cropped document the blob is its print, and the same paper lies on both
    # sides of the hull; a document on a table differs from the table all round.
    return quad if _border_contrast(channel, quad) >= _MIN_BORDER_CONTRAST else None


def _border_contrast(channel: np.ndarray, quad: np.ndarray) -> float:
    """Difference of the median levels just inside and just outside the quadrilateral."""
    inside = np.zeros(channel.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 255)
    band = np.ones((2 * _BAND_PX + 1, 2 * _BAND_PX + 1), np.uint8)
    inner = (inside > 0) & (cv2.erode(inside, band) == 0)
    outer = (cv2.dilate(inside, band) > 0) & (inside == 0)
    if inner.sum() == 0 or outer.sum() == 0:
        return 0.0
    return abs(float(np.median(channel[inner])) - float(np.median(channel[outer])))


Box = tuple[int, int, int, int]  # left, top, right, bottom


def _text_holder(boxes: list[Box] | None) -> Callable[[np.ndarray], bool]:
    """Whether a quadrilateral holds most of the photo's text and cuts through none of its
    lines (always true when the text was not detected): the photo on a card, a window or a
    book on the table is a quadrilateral too, and so is a patch of a tightly cropped card
    between its guilloche lines, but the document is where the text is, all of it."""
    if not boxes:
        return lambda _: True
    areas = np.array([max(1, (x1 - x0) * (y1 - y0)) for x0, y0, x1, y1 in boxes], float)
    # A line runs along its box's middle row or, tilted, along one of its diagonals; it is
    # cut when its middle is inside and none of these runs is inside from end to end.
    runs = [[((x0 + x1) / 2, (y0 + y1) / 2),
             *[(x0 + _RUN_INSET * (x1 - x0), ya + _RUN_INSET * (yb - ya)) for ya, yb in
               (((y0 + y1) / 2, (y0 + y1) / 2), (y0, y1), (y1, y0))],
             *[(x1 - _RUN_INSET * (x1 - x0), yb - _RUN_INSET * (yb - ya)) for ya, yb in
               (((y0 + y1) / 2, (y0 + y1) / 2), (y0, y1), (y1, y0))]]
            for x0, y0, x1, y1 in boxes]

    def holds(quad: np.ndarray) -> bool:
        outline = quad.reshape(-1, 1, 2).astype(np.float32)

        def inside(point: tuple[float, float]) -> bool:
            return cv2.pointPolygonTest(outline, (float(point[0]), float(point[1])),
                                        False) >= 0

        held = np.array([inside(r[0]) for r in runs])
        whole = np.array([any(inside(r[1 + i]) and inside(r[4 + i]) for i in range(3))
                          for r in runs])
        cut = held & ~whole
        return float(areas[held].sum()) >= _MIN_TEXT_INSIDE * float(areas.sum()) \
            and float(areas[cut].sum()) <= _MAX_TEXT_CUT * float(areas[held].sum())

    return holds


def _scaled(boxes: list[Box], scale: float) -> list[Box]:
    return [(round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale))
            for x0, y0, x1, y1 in boxes]


def text_boxes(rgb: np.ndarray, detector: Any) -> list[Box] | None:
    """The photo's text lines (PP-OCR's detector on a small copy), or None without one."""
    if detector is None:
        return None
    return [b.box_px for b in detect_text(detector, rgb, _TEXT_DETECT_SIDE_PX)]


def find_quad(rgb: np.ndarray, detector: Any = None) -> np.ndarray | None:
    """The document's four corners (float32, 4x2, tl tr br bl) or None. With PP-OCR's text
    `detector`, only a quadrilateral holding most of the text is taken."""
    return _find_quad(rgb, text_boxes(rgb, detector))


def _find_quad(rgb: np.ndarray, boxes: list[Box] | None) -> np.ndarray | None:
    h, w = rgb.shape[:2]
    scale = min(1.0, _DETECT_SIDE_PX / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    holds_text = _text_holder(None if boxes is None else _scaled(boxes, scale))
    # Brightness edges first; a tinted card on a grey table of the same brightness (the
    # public KTP specimen) only stands out in saturation.
    channels = (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY),
                cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1])
    for channel in channels:
        quad = _largest_quad(channel, holds_text, _MIN_AREA_RATIO if not boxes
                             else _MIN_TEXT_AREA_RATIO)
        if quad is not None:
            return quad / scale
    quad = _hull_quad(channels[0])
    return None if quad is None or not holds_text(quad) else quad / scale


def _warp(rgb: np.ndarray, quad: np.ndarray, size: tuple[int, int], found: bool,
          boxes: list[Box] | None) -> Rectified:
    width, height = size
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    image = cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_AREA,
                                borderMode=cv2.BORDER_REPLICATE)
    warped_boxes = None
    if boxes is not None:
        warped_boxes = []
        for x0, y0, x1, y1 in boxes:
            corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
            moved = cv2.perspectiveTransform(corners, matrix)[0]
            lo, hi = moved.min(axis=0), moved.max(axis=0)
            if hi[0] > 0 and hi[1] > 0 and lo[0] < width and lo[1] < height:
                warped_boxes.append((max(0, round(lo[0])), max(0, round(lo[1])),
                                     min(width, round(hi[0])), min(height, round(hi[1]))))
    return Rectified(image=image, quad_px=tuple((float(x), float(y)) for x, y in quad),
                     found=found,
                     text_boxes_px=None if warped_boxes is None else tuple(warped_boxes))


def _runs_down(boxes: tuple[Box, ...]) -> bool:
    """Whether the text lines run up or down the image rather than across it."""
    tall = sum(y1 - y0 > _LINE_ASPECT * (x1 - x0) for x0, y0, x1, y1 in boxes)
    wide = sum(x1 - x0 > _LINE_ASPECT * (y1 - y0) for x0, y0, x1, y1 in boxes)
    return tall > wide


def rectify(rgb: np.ndarray, kind: str, detector: Any = None) -> Rectified:
    """The document warped to its kind's size, long side as the kind's. With PP-OCR's text
    `detector` the photo's text is detected once: the outline must hold it, where
    perspective leaves the outline's sides too alike to tell which is long (a card held at
    45 degrees, or a whole 4:3 photo) its direction decides, and the rectified document
    carries it for `orientation`."""
    size = SIZES_PX[kind]
    boxes = text_boxes(rgb, detector)
    quad = _find_quad(rgb, boxes)
    found = quad is not None
    if quad is None:
        h, w = rgb.shape[:2]
        quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    top = float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3]))
    side = float(np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1]))
    if (top < side) == (size[0] > size[1]):
        quad = np.roll(quad, -1, axis=0)  # the document lies on its side: start one corner on
    rectified = _warp(rgb, quad, size, found, boxes)
    if rectified.text_boxes_px and max(top, side) < _CLEAR_ASPECT * min(top, side) \
            and _runs_down(rectified.text_boxes_px):
        rectified = _warp(rgb, np.roll(quad, -1, axis=0), size, found, boxes)
    return rectified


def rotated_180(rectified: Rectified) -> Rectified:
    q = rectified.quad_px
    h, w = rectified.image.shape[:2]
    boxes = None if rectified.text_boxes_px is None else tuple(
        (w - x1, h - y1, w - x0, h - y0) for x0, y0, x1, y1 in rectified.text_boxes_px)
    return Rectified(image=np.ascontiguousarray(rectified.image[::-1, ::-1]),
                     quad_px=(q[2], q[3], q[0], q[1]), found=rectified.found,
                     text_boxes_px=boxes)
