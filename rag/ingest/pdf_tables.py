"""Tables on PDF pages, found from where the words of the stored text sit.

A PDF has no rows or cells, only words at places. A table is a header line whose words fall in
two or more cells (runs of words a wide gap apart, none a number), followed by two or more lines
whose cells each sit under exactly one header cell, with at least one column of numbers. Each
row must be one line of the stored text (pypdf's), its words left to right on one baseline, so
a row is quoted as the line it is. Anything else (wrapped cells, a cell spanning two columns, a
table written column by column) is no table: its rows are not known, so nothing is computed
from it.

The tables are kept in the document's metadata as offsets only:
{"header": [[start, end], ...], "rows": [[[column, start, end], ...], ...]}, with "continues":
true when the table runs to the foot of a page that has another after it (rows continued there
without the header repeated are not known).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median
from typing import Any

from rag.types import PageGeometry

# Words further apart than this many average character widths are in different cells: a space
# is about half a character wide, and justified prose rarely stretches one past one and a half.
CELL_GAP_CHARACTERS = 2.0
MIN_ROWS = 2
# A table's rows are evenly spaced: the first may stand up to three line heights below the
# header, each later one at most half a row further apart than the closest two so far.
HEADER_GAP_LINES = 3.0
ROW_GAP_PITCHES = 1.5
_NUMBER = re.compile(r"^[(−\-+]?[€$£¥]?\s?\d[\d,.]*%?\)?$")
# Two numbers a narrow gap apart may be two cells ("12 500" under columns a and b), or one number
# with a space between its thousands: a table holding one is not read.
_SPACED_DIGITS = re.compile(r"\d\s+\d")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class _Cell:
    start: int
    end: int
    left: int
    right: int


def pdf_tables(text: str, geometry: Sequence[PageGeometry]) -> list[dict[str, Any]]:
    """The tables of the text-layer pages, as offsets into the text (the module docstring's form)."""
    tables: list[dict[str, Any]] = []
    last_page = max((page.page for page in geometry), default=0)
    for page in geometry:
        if page.source != "text layer":
            continue
        for table in _page_tables(text, _lines(text, page)):
            continues = table.pop("ends_page", False) and page.page < last_page
            # A table continued on the next page under its header repeated is one table: a total
            # over it must add every page's rows.
            if tables and _header_text(text, tables[-1]) == _header_text(text, table):
                tables[-1]["rows"].extend(table["rows"])
                tables[-1].pop("continues", None)
                table = tables[-1]
            else:
                tables.append(table)
            if continues:
                table["continues"] = True  # rows on the next page without a header are not in it
    return tables


def _header_text(text: str, table: dict[str, Any]) -> list[str]:
    return [text[start:end] for start, end in table["header"]]


def _lines(text: str, page: PageGeometry) -> list[list[_Word]]:
    """The page's words grouped by the line of the stored text they stand on, in text order."""
    runs = page.runs
    words = sorted(
        (_Word(*runs[index : index + 6]) for index in range(0, len(runs), 6)), key=lambda word: word.start
    )
    lines: list[list[_Word]] = []
    line_start = -1
    for word in words:
        start = text.rfind("\n", 0, word.start) + 1
        if start != line_start:
            lines.append([])
            line_start = start
        lines[-1].append(word)
    return lines


def _cells(words: list[_Word]) -> list[_Cell] | None:
    """The line's words joined into cells at wide gaps; None when the line does not read left to
    right on one baseline (not a row of a table)."""
    widths = [(word.right - word.left) / max(1, word.end - word.start) for word in words]
    gap = CELL_GAP_CHARACTERS * median(widths)
    first = words[0]
    cells = [_Cell(first.start, first.end, first.left, first.right)]
    for word in words[1:]:
        last = cells[-1]
        # Runs of one word may touch or overlap by a rounding; half a character back is another line.
        if word.left < last.right - gap / 4 or word.top > first.bottom or word.bottom < first.top:
            return None
        if word.left - last.right > gap:
            cells.append(_Cell(word.start, word.end, word.left, word.right))
        else:
            cells[-1] = _Cell(last.start, word.end, last.left, word.right)
    return cells


def _page_tables(text: str, lines: list[list[_Word]]) -> Iterator[dict[str, Any]]:
    header: list[_Cell] | None = None
    rows: list[list[list[int]]] = []
    tops: list[int] = []  # of the header and each row so far
    for words in lines:
        cells = _cells(words)
        top = min(word.top for word in words)
        row = _row(header, cells) if header and cells and _follows(tops, top, words) else None
        if row is not None and _keeps_numbers(text, rows, row):
            rows.append(row)
            tops.append(top)
            continue
        if header and _worth_keeping(text, rows):
            yield {"header": [[cell.start, cell.end] for cell in header], "rows": rows}
        rows = []
        is_header = cells and len(cells) >= 2 and not any(_is_number(text, cell) for cell in cells)
        header = cells if is_header else None
        tops = [top]
    if header and _worth_keeping(text, rows):
        # Its last row is the page's last line: the table may go on over the page.
        yield {"header": [[cell.start, cell.end] for cell in header], "rows": rows, "ends_page": True}


def _follows(tops: list[int], top: int, words: list[_Word]) -> bool:
    """Whether a line sits where the table's next row would: below the last, about one row's
    height further (the header may stand a little apart); a wider gap starts something else."""
    height = median(word.bottom - word.top for word in words)
    step = top - tops[-1]
    if len(tops) == 1:
        return 0 < step <= HEADER_GAP_LINES * height
    pitch = min(later - earlier for earlier, later in pairwise(tops))
    return 0 < step <= ROW_GAP_PITCHES * pitch


def _keeps_numbers(text: str, rows: list[list[list[int]]], row: list[list[int]]) -> bool:
    """Whether the row has a number in every column that had one in every row so far (a line
    of words under a column of numbers is the header of the next table, not a row)."""
    numbers = {
        column
        for column, _, _ in (rows[0] if rows else ())
        if all(
            _NUMBER.match(text[start:end]) for later in rows for index, start, end in later if index == column
        )
    }
    return all(_NUMBER.match(text[start:end]) for column, start, end in row if column in numbers)


def _row(header: list[_Cell], cells: list[_Cell]) -> list[list[int]] | None:
    """The cells by header column, each under exactly one header cell; None if they are not."""
    row = []
    taken = set()
    for cell in cells:
        under = [
            index
            for index, column in enumerate(header)
            if cell.left < column.right and column.left < cell.right
        ]
        if len(under) != 1 or under[0] in taken:
            return None
        taken.add(under[0])
        row.append([under[0], cell.start, cell.end])
    return row if len(row) >= 2 else None


def _worth_keeping(text: str, rows: list[list[list[int]]]) -> bool:
    """Whether the rows make a table a number can be computed from: enough rows, a column of numbers."""
    if len(rows) < MIN_ROWS or any(
        _SPACED_DIGITS.search(text[start:end]) for row in rows for _, start, end in row
    ):
        return False
    columns = {column for row in rows for column, _, _ in row}
    return any(
        all(_NUMBER.match(text[start:end]) for row in rows for index, start, end in row if index == column)
        for column in columns
    )


def _is_number(text: str, cell: _Cell) -> bool:
    return bool(_NUMBER.match(text[cell.start : cell.end]))
