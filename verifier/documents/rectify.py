"""Find a card or page in a photo or scan and warp it to its canonical size.

The document is the largest convex quadrilateral among the image's edge contours. When none
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
        matrix = np.array([d1, -d2]).T
        if abs(np.linalg.det(matrix)) < 1e-6:
            return quad
        t = np.linalg.solve(matrix, p2 - p1)
        refined.append(p1 + t[0] * d1)
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
    return None


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
