"""Labelled lines ("Nama : SITI AMINAH"): which label a line starts with, and its value.

Labels are matched by edit distance, not position, tolerating OCR slips, merged or split
label words and specks before the label; the value starts right of the colon column, which
is measured on the document itself from the colons OCR did see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from verifier.documents.normalise import similarity, squash, strip_leading_colon
from verifier.documents.ocr import OcrLine, OcrWord

_SPECK_CONF = 0.3
_ROMAN = re.compile("[IV|l!]{1,4}")  # a roman numeral, its I possibly read as a stroke


@dataclass(frozen=True)
class LabelledValue:
    words: tuple[OcrWord, ...]
    # The line right of its label (left, top, right, bottom): colon and value, including
    # print OCR did not make words of, for a second reader to read whole.
    after_label_px: tuple[int, int, int, int] | None = None

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        return min((w.confidence for w in self.words), default=0.0)

    def box_px(self) -> tuple[int, int, int, int] | None:
        return OcrLine(self.words).box_px if self.words else None


def match_label(line: OcrLine, labels: Mapping[str, str],
                min_similarity: float = 0.7) -> tuple[str, int] | None:
    """(field key, index of the first word after the label) when the line starts with a
    label. Label words may come back merged ("StatusPerkawnan") or split, and a speck of
    the card's edge may come first ("|"), so word counts around the label's are tried."""
    best: tuple[float, str, int] | None = None
    words = [w.text for w in line.words]
    start = 0
    while start < len(words) - 1 and not squash(words[start]):
        start += 1  # edge specks and rules before the label
    for label, key in labels.items():
        n = len(label.split())
        for k in range(max(1, n - 1), min(len(words) - start, n + 1) + 1):
            score = similarity(squash(" ".join(words[start:start + k])), squash(label))
            if best is None or score > best[0]:
                best = (score, key, start + k)
    if best is None or best[0] < min_similarity:
        return None
    return best[1], best[2]


def colon_column_px(lines: list[OcrLine]) -> float | None:
    """Right edge of the label-value colons, read from the lines where OCR saw a colon."""
    edges = sorted(w.box_px[2] for line in lines for w in line.words[1:4]
                   if w.text == ":" and line.words[0].box_px[0] < w.box_px[0])
    return float(edges[len(edges) // 2]) if len(edges) >= 3 else None


def labelled_values(lines: list[OcrLine], labels: Mapping[str, str]
                    ) -> dict[str, LabelledValue]:
    """Label key -> the words after the label's colon, for each line starting with a label
    (the first such line wins)."""
    colon_px = colon_column_px(lines)
    values: dict[str, LabelledValue] = {}
    for line in lines:
        match = match_label(line, labels)
        if match is None or match[0] in values:
            continue
        key, after = match
        rest = list(line.words[after:])
        if colon_px is not None:
            # A colon misread as "1" or "#" sits left of the colon column; values start right.
            rest = [w for w in rest if w.box_px[2] > colon_px + 2]
        texts = strip_leading_colon([w.text for w in rest])
        kept = rest[len(rest) - len(texts):]
        if kept and texts:
            kept[0] = OcrWord(texts[0], kept[0].confidence, kept[0].box_px)
        # Specks of background print after the value come back as short, unsure "words".
        while len(kept) > 1 and len(kept[-1].text) <= 2 and kept[-1].confidence < _SPECK_CONF \
                and not _ROMAN.fullmatch(kept[-1].text):  # "DUSUN II", "TALANG LEAK I"
            kept.pop()
        _, top, right, bottom = line.box_px
        values[key] = LabelledValue(tuple(kept),
                                    (line.words[after - 1].box_px[2], top, right, bottom))
    return values
