"""Registry loaders for face-embedding networks that are not dlib's: an ONNX file runs on
onnxruntime, any other format OpenCV's dnn module reads (TensorFlow .pb, Caffe, Darknet,
TFLite, ...) on OpenCV. Both present `forward(NCHW float32 batch) -> (N, D) float32`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lebong_contract.errors import ModelIntegrityError
from verifier.models import per_thread


class OnnxNetwork:
    """An onnxruntime session: `InferenceSession.run` may be called from several threads at
    once (onnxruntime documents it as thread-safe), so one is shared."""

    def __init__(self, path: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the analysis pool already uses every core
        self.session = onnxruntime.InferenceSession(str(path), options,
                                                    providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input_name: batch})[0], dtype=np.float32)


class DnnNetwork:
    """An OpenCV dnn net. `setInput` then `forward` keeps the input in the object, so two
    threads on one net would mix their faces: its loader is `@per_thread`."""

    def __init__(self, path: Path) -> None:
        import cv2

        try:
            self.net = cv2.dnn.readNet(str(path))
        except cv2.error as exc:
            raise ModelIntegrityError(f"OpenCV dnn cannot read {path}: {exc}") from None

    def forward(self, batch: np.ndarray) -> np.ndarray:
        self.net.setInput(batch)
        return np.asarray(self.net.forward(), dtype=np.float32)


def load_onnx_network(path: Path) -> Any:
    """Registry loader: an ONNX embedding network on onnxruntime (CPU)."""
    return OnnxNetwork(path)


@per_thread
def load_dnn_network(path: Path) -> Any:
    """Registry loader: an embedding network in a format OpenCV's dnn module reads."""
    return DnnNetwork(path)
