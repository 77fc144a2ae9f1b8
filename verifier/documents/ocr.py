"""Text recognition with Tesseract: whole-document lines with word boxes, and single-line
re-reads restricted to the characters a field may hold.

Tesseract runs as a subprocess; OpenMP inside it would spread one card over every core and
take 2 s instead of 0.35 s, so OMP_THREAD_LIMIT=1 is set for it unless the caller chose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from lebong_contract.errors import NotReady

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0-1
    box_px: tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class OcrLine:
    words: tuple[OcrWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box_px(self) -> tuple[int, int, int, int]:
        return (min(w.box_px[0] for w in self.words), min(w.box_px[1] for w in self.words),
                max(w.box_px[2] for w in self.words), max(w.box_px[3] for w in self.words))


def _tesseract():  # type: ignore[no-untyped-def]
    import pytesseract

    return pytesseract


def _uncompressed(grey: np.ndarray) -> Image.Image:
    """pytesseract hands Tesseract a temporary file, PNG unless the image says otherwise.
    Compressing it is wasted work (a 2000 px page: 1.3 s read as PNG, 0.75 s as BMP; a
    whole KTP reading, whose crops are smaller, ~4 %), so tag the image BMP."""
    image = Image.fromarray(grey)
    image.format = "BMP"
    return image


def _config(psm: int, whitelist: str | None) -> str:
    config = f"--psm {psm} --oem 1"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    return config


def read_lines(grey: np.ndarray, lang: str = "ind", psm: int = 6) -> list[OcrLine]:
    """Every text line Tesseract finds, top to bottom, words left to right."""
    pytesseract = _tesseract()
    try:
        data = pytesseract.image_to_data(_uncompressed(grey), lang=lang,
                                         config=_config(psm, None),
                                         output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise NotReady("tesseract is not installed (tools/system-deps.sh installs it)") from None
    lines: dict[tuple[int, int, int], list[OcrWord]] = {}
    for i, word in enumerate(data["text"]):
        word = word.strip()
        conf = float(data["conf"][i])
        if not word or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        left, top = data["left"][i], data["top"][i]
        lines.setdefault(key, []).append(OcrWord(
            text=word, confidence=conf / 100.0,
            box_px=(left, top, left + data["width"][i], top + data["height"][i])))
    ordered = [OcrLine(tuple(sorted(ws, key=lambda w: w.box_px[0]))) for ws in lines.values()]
    return sorted(ordered, key=lambda line: line.box_px[1])


def read_single_line(grey: np.ndarray, whitelist: str | None, lang: str = "ind") -> str:
    """One line of text (psm 7). No confidence: with a character whitelist Tesseract's LSTM
    reports 0 whatever it read, so callers judge a re-read by agreement instead."""
    pytesseract = _tesseract()
    padded = cv2.copyMakeBorder(grey, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    text: str = pytesseract.image_to_string(_uncompressed(padded), lang=lang,
                                            config=_config(7, whitelist))
    return " ".join(text.split())


@dataclass(frozen=True)
class OcrChar:
    text: str
    left_px: int  # column span in the image read
    right_px: int


def read_single_line_chars(grey: np.ndarray, whitelist: str | None, lang: str = "ind"
                           ) -> list[OcrChar]:
    """Like `read_single_line`, each character with the columns it was read from (the
    LSTM engine places them approximately, well enough to tell fixed-pitch cells apart)."""
    pytesseract = _tesseract()
    pad = 10
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    boxes: str = pytesseract.image_to_boxes(_uncompressed(padded), lang=lang,
                                            config=_config(7, whitelist))
    chars = []
    for row in boxes.splitlines():
        parts = row.split(" ")
        if len(parts) >= 5 and parts[0].strip():
            chars.append(OcrChar(parts[0], int(parts[1]) - pad, int(parts[3]) - pad))
    return chars


def flatten_background(rgb: np.ndarray) -> np.ndarray:
    """Dark print on any light paper: grey with the background (tint, guilloche, shadow, low
    light) divided out, so one threshold suits the whole document."""
    # Print is dark in every channel; tinted security backgrounds are light in at least one.
    grey = rgb.max(axis=2).astype(np.float32)
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    return np.clip(grey / np.maximum(background, 1.0) * 255.0, 0, 255).astype(np.uint8)
