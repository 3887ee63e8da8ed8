"""OCR text that reads like the page: tesseract's words (its TSV) rebuilt into lines and paragraphs.

Tesseract numbers blocks, paragraphs and lines, but it starts a new block at every wide gap: on a
double-spaced page each line is a block of its own, and joining them as paragraphs cut every
sentence that wraps. So tesseract's numbers give the lines and their reading order only; what
separates two lines is decided from the page itself:

- a paragraph break (a blank line) where the text moves to another column, the letters change
  size, the gap is clearly wider than the page's usual line spacing, or a finished sentence ends
  a short line or is followed by an indented one;
- a line break where the line was ended on purpose (the next line's first word would have fit
  on it: an address, a list, a heading);
- a space where the line was full and the text wraps, and always where a line stops mid-sentence
  and the next one goes on in lower case. A word hyphenated over the line end is joined whole.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field

from rag.pages.geometry import SCALE

# The next line is a new paragraph when its distance from the previous one is this many times
# the page's usual line spacing (double spacing is usual on a double-spaced page).
WIDE_GAP = 1.5
# Letters this many times taller (or shorter) than the previous line's start a new paragraph.
SIZE_CHANGE = 1.4
_SENTENCE_END = ".!?:"
_CLOSERS = "\"'”’»)]"


@dataclass
class _Word:
    text: str
    left: int
    top: int
    right: int
    bottom: int


@dataclass
class _Line:
    words: list[_Word] = field(default_factory=list)

    @property
    def left(self) -> int:
        return min(word.left for word in self.words)

    @property
    def right(self) -> int:
        return max(word.right for word in self.words)

    @property
    def top(self) -> int:
        return min(word.top for word in self.words)

    @property
    def bottom(self) -> int:
        return max(word.bottom for word in self.words)

    @property
    def height(self) -> int:
        return max(1, self.bottom - self.top)

    @property
    def first(self) -> _Word:
        return self.words[0]

    @property
    def last_text(self) -> str:
        return self.words[-1].text


def parse_tsv(tsv: str) -> tuple[str, float | None, tuple[int, ...]]:
    """Text (paragraphs separated by a blank line), mean word confidence, and each word's
    offsets and box (as rag.types.PageGeometry runs) of tesseract TSV."""
    lines, confidences, page_size = _read(tsv)
    separators = _separators(lines)
    pieces: list[str] = []
    runs: list[int] = []
    length = 0
    for index, line in enumerate(lines):
        if index:
            pieces.append(separators[index - 1])
            length += len(pieces[-1])
        for position, word in enumerate(line.words):
            if position:
                pieces.append(" ")
                length += 1
            pieces.append(word.text)
            if page_size[0] > 0 and page_size[1] > 0:
                runs += [length, length + len(word.text), *_fractions(word, page_size)]
            length += len(word.text)
    confidence = sum(confidences) / len(confidences) if confidences else None
    return "".join(pieces), confidence, tuple(runs)


def _read(tsv: str) -> tuple[list[_Line], list[float], tuple[int, int]]:
    """The page's lines of words in tesseract's reading order, the word confidences, the page size."""
    lines: dict[tuple[str, ...], _Line] = {}
    confidences: list[float] = []
    page_size = (0, 0)
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) >= 10 and fields[0] == "1":
            page_size = (int(fields[8]), int(fields[9]))
        if len(fields) < 12 or fields[0] != "5" or not fields[11].strip():
            continue
        left, top, width, height = (int(value) for value in fields[6:10])
        word = _Word(fields[11].strip(), left, top, left + width, top + height)
        lines.setdefault(tuple(fields[1:5]), _Line()).words.append(word)
        if float(fields[10]) >= 0:
            confidences.append(float(fields[10]))
    return list(lines.values()), confidences, page_size


def _separators(lines: list[_Line]) -> list[str]:
    """What goes between each line and the next: " ", "" (a hyphenated word), "\\n" or "\\n\\n"."""
    if len(lines) < 2:
        return []
    usual_spacing = _usual_spacing(lines)
    space = _usual_space(lines)
    column_right = _column_rights(lines)
    separators = []
    for index, (line, following) in enumerate(itertools.pairwise(lines)):
        if _goes_on(line, following):
            separators.append("" if _is_hyphenated(line, following) else " ")
        elif _new_paragraph(line, following, usual_spacing):
            separators.append("\n\n")
        elif line.right + space + (following.first.right - following.first.left) <= column_right[index]:
            # The next word would have fit: the line was ended on purpose.
            indented = following.left - line.left > following.height
            separators.append("\n\n" if _ends_sentence(line) or indented else "\n")
        elif following.left - line.left > following.height and _ends_sentence(line):
            separators.append("\n\n")  # a full last line, then an indented first line
        else:
            separators.append("" if _is_hyphenated(line, following) else " ")
    return separators


def _goes_on(line: _Line, following: _Line) -> bool:
    """A line that stops mid-sentence followed by one that starts in lower case: one sentence."""
    last, first = line.last_text, following.first.text
    return (last[-1].isalnum() or last[-1] in ",;-") and first[0].islower()


def _is_hyphenated(line: _Line, following: _Line) -> bool:
    last, first = line.last_text, following.first.text
    return len(last) > 1 and last[-1] == "-" and last[-2].isalpha() and first[0].islower()


def _ends_sentence(line: _Line) -> bool:
    return line.last_text.rstrip(_CLOSERS)[-1:] in tuple(_SENTENCE_END)


def _new_paragraph(line: _Line, following: _Line, usual_spacing: float) -> bool:
    """Another column, another letter size, or a gap clearly wider than the page's line spacing."""
    if not _same_column(line, following):
        return True
    size = following.height / line.height
    if size > SIZE_CHANGE or size < 1 / SIZE_CHANGE:
        return True
    return following.top - line.top > WIDE_GAP * usual_spacing


def _same_column(line: _Line, following: _Line) -> bool:
    """Below the line and overlapping it across the page (a line back at the top is a new column)."""
    overlap = min(line.right, following.right) - max(line.left, following.left)
    return following.top > line.top and overlap > 0


def _usual_spacing(lines: list[_Line]) -> float:
    """The page's usual distance from one line's top to the next's (the lower median; infinity
    when no two lines follow each other in a column)."""
    spacings = [
        following.top - line.top
        for line, following in itertools.pairwise(lines)
        if _same_column(line, following)
    ]
    return float(statistics.median_low(spacings)) if spacings else float("inf")


def _usual_space(lines: list[_Line]) -> float:
    """The usual gap between two words of a line, in pixels (a third of a line's height when none)."""
    gaps = [
        following.left - word.right
        for line in lines
        for word, following in itertools.pairwise(line.words)
        if following.left > word.right
    ]
    return float(statistics.median(gaps)) if gaps else statistics.median(line.height for line in lines) / 3


def _column_rights(lines: list[_Line]) -> list[int]:
    """For each line, the right edge of the column it is in: the rightmost end of the lines that
    follow one another in that column."""
    rights: list[int] = []
    start = 0
    for index in range(1, len(lines) + 1):
        if index == len(lines) or not _same_column(lines[index - 1], lines[index]):
            edge = max(line.right for line in lines[start:index])
            rights += [edge] * (index - start)
            start = index
    return rights


def _fractions(word: _Word, page_size: tuple[int, int]) -> list[int]:
    """A word box in pixels as 1/65535ths of the page."""
    page_width, page_height = page_size
    return [
        round(SCALE * min(1.0, value / size))
        for value, size in (
            (word.left, page_width),
            (word.top, page_height),
            (word.right, page_width),
            (word.bottom, page_height),
        )
    ]
