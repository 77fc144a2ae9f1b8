"""Find a card or page in a photo or scan and warp it to its canonical size.

The document is the largest convex quadrilateral among the image's edge contours. Where glare,
shadow or noise break its outline, or a corner lies outside the photo, the quadrilateral is
rebuilt from the four longest sides of the convex hull of the largest edge blob. When neither
is found (a tight scan or crop), the whole image is taken as the document. Long side
horizontal for cards and passport pages, vertical for A4; the remaining 180-degree ambiguity
is settled by the caller (`rotated_180`), which knows what the document should look like.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from verifier.documents.layout import SIZES_PX

# Work on a downscaled copy: edges of a card are long, fine detail only adds clutter.
_DETECT_SIDE_PX = 900
# A quadrilateral smaller than this share of the image is a detail, not the document.
_MIN_AREA_RATIO = 0.12
# The rebuilt outline is trusted on a document photographed to fill a good part of the photo
# (a card at the counter fills 40-80 %); smaller blobs are a photo or a stamp on it.
_MIN_HULL_AREA_RATIO = 0.25
# Hull simplification (share of its perimeter) and the share of the rebuilt quadrilateral
# the hull must fill (a corner outside the photo leaves a few per cent unfilled).
_HULL_EPS = 0.005
_HULL_FILL = 0.85
# Grey levels between the paper just inside a rebuilt outline and the table just outside it,
# in bands this wide (px on the downscaled copy).
_MIN_BORDER_CONTRAST = 40.0
_BAND_PX = 6


@dataclass(frozen=True)
class Rectified:
    image: np.ndarray  # RGB at the canonical size of the kind
    quad_px: tuple[tuple[float, float], ...]  # document corners in the input, tl tr br bl
    found: bool  # False: no quadrilateral, the whole image was used


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


def _largest_quad(channel: np.ndarray) -> np.ndarray | None:
    """The largest convex quadrilateral outlined by `channel`'s edges (tl tr br bl)."""
    grey = cv2.GaussianBlur(channel, (5, 5), 0)
    edges = cv2.Canny(grey, 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    # RETR_LIST keeps the inner side of the document's edge band as its own contour, so a
    # table object touching the document's edge does not merge into it.
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    min_area = _MIN_AREA_RATIO * channel.shape[0] * channel.shape[1]
    large = [c for c in sorted(contours, key=cv2.contourArea, reverse=True)[:12]
             if cv2.contourArea(c) >= min_area]
    # The tightest fit wins: a contour merged with a pen lying against the card only becomes
    # a quadrilateral at a coarse tolerance.
    for eps in (0.01, 0.02, 0.03):
        for contour in large:
            approx = cv2.approxPolyDP(contour, eps * cv2.arcLength(contour, True), True)
            if len(approx) == 4 and cv2.isContourConvex(approx) \
                    and cv2.contourArea(contour) > 0.95 * cv2.contourArea(approx):
                return _refine_corners(contour, _order_corners(
                    approx.reshape(4, 2).astype(np.float32)))
    for contour in large:
        # Rounded corners or a glare blob on an edge: the minimum-area rectangle still fits.
        rect = cv2.boxPoints(cv2.minAreaRect(contour))
        if cv2.contourArea(contour) > 0.95 * cv2.contourArea(rect):
            return _order_corners(rect.astype(np.float32))
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
    hull = cv2.convexHull(blob)
    hull_area = cv2.contourArea(hull)
    if hull_area < _MIN_HULL_AREA_RATIO * channel.shape[0] * channel.shape[1]:
        return None
    approx = cv2.approxPolyDP(hull, _HULL_EPS * cv2.arcLength(hull, True), True)
    quad = _four_longest_sides(approx)
    # Sides that do not enclose the hull snugly belong to something else (a blob of table
    # texture merged with the card).
    if quad is None or hull_area < _HULL_FILL * cv2.contourArea(quad):
        return None
    quad = _refine_corners(blob, _order_corners(quad))
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


def find_quad(rgb: np.ndarray) -> np.ndarray | None:
    """The document's four corners (float32, 4x2, tl tr br bl) or None."""
    h, w = rgb.shape[:2]
    scale = min(1.0, _DETECT_SIDE_PX / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    # Brightness edges first; a tinted card on a grey table of the same brightness (the
    # public KTP specimen) only stands out in saturation.
    channels = (cv2.cvtColor(small, cv2.COLOR_RGB2GRAY),
                cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[..., 1])
    for channel in channels:
        quad = _largest_quad(channel)
        if quad is not None:
            return quad / scale
    quad = _hull_quad(channels[0])
    return None if quad is None else quad / scale


def rectify(rgb: np.ndarray, kind: str) -> Rectified:
    width, height = SIZES_PX[kind]
    quad = find_quad(rgb)
    found = quad is not None
    if quad is None:
        h, w = rgb.shape[:2]
        quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    top = float(np.linalg.norm(quad[1] - quad[0]))
    side = float(np.linalg.norm(quad[3] - quad[0]))
    if (top < side) == (width > height):
        quad = np.roll(quad, -1, axis=0)  # the document lies on its side: start one corner on
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    image = cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_AREA,
                                borderMode=cv2.BORDER_REPLICATE)
    return Rectified(image=image, quad_px=tuple((float(x), float(y)) for x, y in quad),
                     found=found)


def rotated_180(rectified: Rectified) -> Rectified:
    q = rectified.quad_px
    return Rectified(image=np.ascontiguousarray(rectified.image[::-1, ::-1]),
                     quad_px=(q[2], q[3], q[0], q[1]), found=rectified.found)


def portrait_side_up(rectified: Rectified, portrait_box: tuple[float, float, float, float]
                     ) -> Rectified:
    """Settle the 180-degree ambiguity of a document with a photo at a known place: the photo
    is the most colourful and textured region, print on a tinted background is neither."""
    h, w = rectified.image.shape[:2]
    x0, y0, x1, y1 = (round(portrait_box[0] * w), round(portrait_box[1] * h),
                      round(portrait_box[2] * w), round(portrait_box[3] * h))

    def busyness(region: np.ndarray) -> float:
        hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV)
        return float(hsv[..., 1].std() + hsv[..., 2].std())

    here = busyness(rectified.image[y0:y1, x0:x1])
    turned = busyness(rectified.image[h - y1:h - y0, w - x1:w - x0])
    return rectified if here >= turned else rotated_180(rectified)
