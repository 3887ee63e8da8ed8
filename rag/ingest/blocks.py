"""Build a converted document's stored text block by block, recording where pages and locations start."""

from __future__ import annotations

from rag.types import Location

BLOCK_SEPARATOR = "\n\n"  # a blank line: the sentence splitter and the chunker both cut there first
LABEL_MAX_CHARS = 80


class TextBuilder:
    """Joins blocks of text with blank lines, recording where pages and locations start."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.locations: list[Location] = []
        self.page_starts: list[int] = []

    def add(
        self, block: str, label: str | None = None, separator: str = BLOCK_SEPARATOR, new_page: bool = False
    ) -> None:
        """Append one block (a paragraph, a row); a label starts a location, new_page a page or slide."""
        block = block.strip()
        if not block:
            return
        if self.parts:
            self._append(separator)
        if label is not None:
            self.locations.append(Location(self.length, label))
        if new_page:
            self.page_starts.append(self.length)
        self._append(block)

    @property
    def text(self) -> str:
        """The text built so far."""
        return "".join(self.parts)

    def _append(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)


def short_label(text: str) -> str:
    """A heading or title cut to a label's length, on one line."""
    return " ".join(text.split())[:LABEL_MAX_CHARS]


def reason(error: BaseException) -> str:
    """A parser exception as a short one-line reason."""
    return " ".join(str(error).split())[:200] or type(error).__name__
