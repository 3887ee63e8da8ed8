"""Page geometry: stored offsets mapped to boxes on the page, kept compactly, read back per quote.

A box is (left, top, right, bottom) in 1/65535ths of the displayed page, from its top left
corner, so one box serves every rendered width. Boxes are kept per word (a run of stored
characters that extraction placed together); a quote that starts or ends inside a word takes
the matching share of that word's width.
"""

from __future__ import annotations

import bisect
import re
import struct
import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from rag.types import PageGeometry

SCALE = 65535
RUN_FIELDS = 6  # start, end, left, top, right, bottom
Box = tuple[float, float, float, float]  # fractions of the displayed page
_WORD = re.compile(r"\S+")
_HEADER = struct.Struct("<BI")  # encoding version, run count
_ENCODING = 1
_HYPHENS = str.maketrans({"\ufffe": "-", "\u00ad": "-"})


def text_layer_runs(stored: str, offset: int, extracted: str, boxes: Sequence[Box | None]) -> tuple[int, ...]:
    """Runs for the words of `stored` (a page's stored text, starting at `offset` in the document)
    found in `extracted`, the page's text as the geometry source read it, one box per character.

    The two extractions may order lines differently and split words differently: each stored
    word is matched at the reading position first, else at its next unused occurrence. Words
    found nowhere, and every whitespace character, get no box.
    """
    # pdfium marks a hyphen that breaks a word at a line end as U+FFFE; the stored text has "-".
    extracted = extracted.translate(_HYPHENS)
    occurrences: dict[str, list[int]] = defaultdict(list)
    for match in _WORD.finditer(extracted):
        occurrences[match.group()].append(match.start())
    runs: list[int] = []
    used: set[int] = set()  # extracted characters already given to a stored word
    cursor = 0
    for match in _WORD.finditer(stored):
        indices = _in_sequence(match.group(), extracted, cursor, used) or _elsewhere(
            match.group(), occurrences, cursor, used
        )
        if not indices:
            continue
        used.update(indices)
        cursor = indices[-1] + 1
        found = [boxes[index] for index in indices if index < len(boxes)]
        if len(found) != len(indices) or any(box is None for box in found):
            continue
        runs.extend((offset + match.start(), offset + match.end(), *_quantised(_union(found))))  # type: ignore[arg-type]
    return tuple(runs)


def _in_sequence(word: str, extracted: str, cursor: int, used: set[int]) -> list[int]:
    """Indices of the word's characters read on from cursor, skipping whitespace; [] if they differ."""
    indices = []
    position = cursor
    for character in word:
        while position < len(extracted) and extracted[position].isspace():
            position += 1
        if position >= len(extracted) or extracted[position] != character or position in used:
            return []
        indices.append(position)
        position += 1
    return indices


def _elsewhere(word: str, occurrences: dict[str, list[int]], cursor: int, used: set[int]) -> list[int]:
    """The word's next unused whole-word occurrence after cursor (else the first unused one)."""
    starts = occurrences.get(word, [])
    after = bisect.bisect_left(starts, cursor)
    for start in starts[after:] + starts[:after]:
        if start not in used:
            return list(range(start, start + len(word)))
    return []


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    )


def _quantised(box: Box) -> tuple[int, int, int, int]:
    return tuple(min(SCALE, max(0, round(value * SCALE))) for value in box)  # type: ignore[return-value]


def encode(runs: Sequence[int]) -> bytes:
    """A page's runs as a small blob: each column delta-coded, then deflated."""
    table = np.asarray(runs, dtype=np.int64).reshape(-1, RUN_FIELDS)
    deltas = np.diff(table, axis=0, prepend=np.zeros((1, RUN_FIELDS), dtype=np.int64))
    return _HEADER.pack(_ENCODING, len(table)) + zlib.compress(deltas.T.astype(np.int32).tobytes(), 9)


def decode(blob: bytes) -> np.ndarray:
    """The runs of a blob from encode, one row of six integers each."""
    version, count = _HEADER.unpack_from(blob)
    if version != _ENCODING:
        raise ValueError(f"unknown page geometry encoding {version}")
    deltas = np.frombuffer(zlib.decompress(blob[_HEADER.size :]), dtype=np.int32).reshape(RUN_FIELDS, count)
    return np.cumsum(deltas.T.astype(np.int64), axis=0)


def quote_boxes(runs: np.ndarray, start: int, end: int) -> list[Box]:
    """Boxes (fractions of the page) covering the stored characters in [start, end), one per line."""
    boxes = []
    for run_start, run_end, left, top, right, bottom in runs.tolist():
        first, last = max(start, run_start), min(end, run_end)
        if first >= last:
            continue
        width = (right - left) / max(run_end - run_start, 1)
        boxes.append(
            (
                (left + (first - run_start) * width) / SCALE,
                top / SCALE,
                (left + (last - run_start) * width) / SCALE,
                bottom / SCALE,
            )
        )
    return merged_per_line(boxes)


def merged_per_line(boxes: Sequence[Box]) -> list[Box]:
    """Consecutive boxes on one line (overlapping heights, the next one close on the right) as one."""
    merged: list[Box] = []
    for box in boxes:
        if merged and _same_line(merged[-1], box):
            merged[-1] = _union([merged[-1], box])
        else:
            merged.append(box)
    return merged


def _same_line(current: Box, following: Box) -> bool:
    height = min(current[3] - current[1], following[3] - following[1])
    overlap = min(current[3], following[3]) - max(current[1], following[1])
    gap = following[0] - current[2]
    return height > 0 and overlap >= height / 2 and -height <= gap <= 3 * height


def page_runs(geometry: Sequence[PageGeometry], page: int) -> tuple[int, ...]:
    """The runs of one page of a loaded file's geometry; () when it has none."""
    return next((item.runs for item in geometry if item.page == page), ())
