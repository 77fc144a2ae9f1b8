"""Text-line detection with the PP-OCRv4 detector (DB network, ONNX, run by onnxruntime).

The model outputs a per-pixel text probability; lines are the connected regions above a
threshold, grown back by the margin the network was trained to shrink them by
(DBNet's "unclip"). Used where Tesseract's own layout analysis has nothing to hold on to:
finding the machine-readable zone in an unrectified photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# PP-OCR's published inference settings.
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)
_PIXEL_THRESHOLD = 0.3
_BOX_THRESHOLD = 0.5
_UNCLIP_RATIO = 1.6


@dataclass(frozen=True)
class TextBox:
    box_px: tuple[int, int, int, int]  # left, top, right, bottom in the input image
    score: float  # mean text probability inside the region

    @property
    def width_px(self) -> int:
        return self.box_px[2] - self.box_px[0]

    @property
    def height_px(self) -> int:
        return self.box_px[3] - self.box_px[1]


def load_text_detector(path: Path) -> Any:
    """The registry's loader: one onnxruntime session, one thread (analyses run in parallel
    on the server's analysis threads already)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options,
                                providers=["CPUExecutionProvider"])


def detect_text(session: Any, rgb: np.ndarray, max_side_px: int = 960) -> tuple[TextBox, ...]:
    """Axis-aligned boxes of the text lines in `rgb`, top to bottom."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side_px / max(h, w))
    rh, rw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA)
    # PP-OCR was trained on BGR input normalised with these statistics.
    tensor = (resized[..., ::-1].astype(np.float32) / 255.0 - _MEAN) / _STD
    tensor = np.ascontiguousarray(tensor.transpose(2, 0, 1)[None])
    name = session.get_inputs()[0].name
    probability = session.run(None, {name: tensor})[0][0, 0]
    mask = (probability > _PIXEL_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    sx, sy = w / rw, h / rh
    boxes = []
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if min(bw, bh) < 3:
            continue
        score = float(probability[labels == i].mean())
        if score < _BOX_THRESHOLD:
            continue
        grow = area * _UNCLIP_RATIO / (2 * (bw + bh))
        left, top = max(0.0, x - grow), max(0.0, y - grow)
        right, bottom = min(rw, x + bw + grow), min(rh, y + bh + grow)
        boxes.append(TextBox((round(left * sx), round(top * sy), round(right * sx),
                              round(bottom * sy)), round(score, 3)))
    return tuple(sorted(boxes, key=lambda b: (b.box_px[1], b.box_px[0])))
