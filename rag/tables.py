"""Table rows as self-standing text: each value next to its column header."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

PAIR_SEPARATOR = "; "
HEADER_SEPARATOR = " | "
_WHITESPACE = re.compile(r"\s+")
# Lines with their endings; not str.splitlines, which also splits at characters (\x1c, \u2028...)
# that csv keeps inside a field.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


def clean_cell(value: str) -> str:
    """A cell's text on one line: a row must stay one line of the stored text."""
    return _WHITESPACE.sub(" ", value).strip()


def render_row(headers: Sequence[str], values: Sequence[str]) -> str:
    """Return "header: value; header: value" for the row's non-empty cells (a bare value if no header)."""
    pairs = []
    for index, raw in enumerate(values):
        value = clean_cell(raw)
        if not value:
            continue
        header = clean_cell(headers[index]) if index < len(headers) else ""
        pairs.append(f"{header}: {value}" if header and header != value else value)
    return PAIR_SEPARATOR.join(pairs)


def render_header(headers: Sequence[str]) -> str:
    """A header row as "a | b | c", its empty cells left out."""
    return HEADER_SEPARATOR.join(cell for cell in map(clean_cell, headers) if cell)


def render_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of a table whose first row is its header: each later row rendered with the headers."""
    if len(rows) < 2:
        return [render_header(row) for row in rows]
    headers = [clean_cell(cell) for cell in rows[0]]
    return [render_row(headers, row) for row in rows[1:]]


def split_lines(text: str) -> list[str]:
    """The physical lines of a delimited text, each with its line ending."""
    return _LINE.findall(text)


def render_records(text: str, columns: Sequence[str], delimiter: str) -> str:
    """Whole records of a .csv/.tsv, one per line, each value next to its column header."""
    try:
        records = list(csv.reader(split_lines(text), delimiter=delimiter))
    except csv.Error:
        return text  # cannot happen for spans of a file that was read whole at ingest
    # Only as many headers as the widest record uses are cleaned: a file may have a million.
    widest = max((len(record) for record in records), default=0)
    header = [clean_cell(cell) for cell in columns[:widest]]
    lines = []
    for record in records:
        cells = [clean_cell(cell) for cell in record]
        if not any(cells):
            continue
        is_header = len(cells) == len(columns) and cells == header
        lines.append(render_header(cells) if is_header else render_row(header, cells))
    return "\n".join(lines)
