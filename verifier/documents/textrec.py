"""Text-line recognition with the PP-OCRv4 recogniser (SVTR-LCNet with a CTC head, ONNX, run
by onnxruntime): a second reader, independent of Tesseract, for the fields where one wrong
digit matters (the NIK).

The network reads a line image 48 px high and outputs, for each of its time steps, a
probability over its alphabet (stored in the model file's metadata) plus the CTC blank;
the text is the best class per step with repeats and blanks removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from verifier.documents.textdet import load_text_detector

# PP-OCR's recognition input: 48 px high, grey levels scaled to [-1, 1].
_HEIGHT_PX = 48
_CHARSET_KEY = "character"


@dataclass(frozen=True)
class TextRecogniser:
    session: Any  # onnxruntime.InferenceSession
    alphabet: tuple[str, ...]  # class index -> character; index 0 is the CTC blank


@dataclass(frozen=True)
class RecognisedChar:
    text: str
    confidence: float  # the network's probability for this character, 0-1


@dataclass(frozen=True)
class RecognisedLine:
    chars: tuple[RecognisedChar, ...]

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def confidence(self) -> float:
        """The least sure character's probability (0 for an empty read)."""
        return min((c.confidence for c in self.chars), default=0.0)


def load_text_recogniser(path: Path) -> TextRecogniser:
    """The registry's loader: the session (one thread, like the detector's) and the alphabet
    the model file carries."""
    session = load_text_detector(path)
    charset = session.get_modelmeta().custom_metadata_map[_CHARSET_KEY].splitlines()
    # The model's classes: the blank, its characters, then a space.
    return TextRecogniser(session, ("", *charset, " "))


def recognise_line(recogniser: TextRecogniser, grey: np.ndarray) -> RecognisedLine:
    """The text of one line of print on a light background (grey, uint8)."""
    h, w = grey.shape
    width = max(_HEIGHT_PX, round(_HEIGHT_PX * w / max(h, 1)))
    interpolation = cv2.INTER_AREA if h > _HEIGHT_PX else cv2.INTER_CUBIC
    image = cv2.resize(grey, (width, _HEIGHT_PX), interpolation=interpolation)
    tensor = (image.astype(np.float32) / 255.0 - 0.5) / 0.5
    tensor = np.ascontiguousarray(np.repeat(tensor[None, None], 3, axis=1))
    name = recogniser.session.get_inputs()[0].name
    probabilities = recogniser.session.run(None, {name: tensor})[0][0]
    best = probabilities.argmax(axis=1)
    chars = []
    previous = 0
    for step, index in enumerate(best):
        if index != 0 and index != previous:
            chars.append(RecognisedChar(recogniser.alphabet[index],
                                        float(probabilities[step, index])))
        previous = index
    return RecognisedLine(tuple(chars))
