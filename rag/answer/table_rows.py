"""The rows of the tables a document holds, each a span of its stored text with its cells by column.

Three shapes are read: a .csv/.tsv kept as the file itself (each row location is a record);
the rendered tables of spreadsheets: a header line "a | b | c" followed by rows "a: 1; b: 2; c: 3"
(rag/tables.py writes both), and of Word, OpenDocument and HTML files: the rows alone, two or
more lines naming the same first column; and the tables found on PDF
pages at ingest, kept in the document's metadata as the offsets of their header and cells.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

from rag.tables import HEADER_SEPARATOR, PAIR_SEPARATOR, clean_cell
from rag.types import Document

_LINE = re.compile(r"[^\n]+")
_SHEET = re.compile(r"^Sheet: (.+)$")
_CURRENCY = re.compile(r"^[€$£¥₹]|[€$£¥₹]$|\b(?:EUR|USD|GBP|CHF|JPY)\b", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+(?:\.\d+)?$")
CONTINUES = (
    "The table runs to the foot of a page: rows continued on the next page without its header are"
    " not counted."
)
_MAX_KEY = 80  # characters of a column name
# The file types whose tables are written as rows without a header line (rag/tables.render_table).
_ROWS_WITHOUT_HEADER = frozenset({"docx", "odt", "html", "epub", "pptx"})
# A line that reads like a rendered row: "a: 1; b: 2".
_KEYED_ROW = re.compile(rf"(?m)^[^:;\n]{{1,{_MAX_KEY}}}: [^;\n]*; [^:;\n]{{1,{_MAX_KEY}}}: ")
_YEAR = re.compile(r"1[5-9]\d\d|2[01]\d\d")


@dataclass(frozen=True)
class TableRow:
    """One record: its exact span in the document text and its cells by column name."""

    start: int
    end: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    """The records of one table (a file, a sheet, a table in a page) under one header."""

    document: Document
    name: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    note: str = ""  # what an answer over all its rows must say (it may go on where rows are not known)

    def numeric(self, column: str) -> bool:
        """Whether most of the column's filled cells read as numbers."""
        return column in self._numeric_columns

    def label_column(self) -> str | None:
        """The first column of names (not numbers): what a question calls a row by; in a table of
        numbers only, its column of distinct years ("2019", "2020")."""
        names = next((column for column in self.columns if not self.numeric(column)), None)
        return names or next((column for column in self.columns if self.is_years(column)), None)

    def is_years(self, column: str) -> bool:
        """Whether the column holds distinct years, one a row."""
        values = [row.cells.get(column, "").strip() for row in self.rows]
        return bool(values) and len(set(values)) == len(values) and all(map(_YEAR.fullmatch, values))

    @cached_property
    def _numeric_columns(self) -> frozenset[str]:
        """The columns most of whose filled cells read as numbers, found once per table: answers
        ask it for every row they cite."""
        found = set()
        for column in self.columns:
            filled = [value for row in self.rows if (value := row.cells.get(column, "")).strip()]
            if filled and sum(number(value) is not None for value in filled) >= 0.8 * len(filled):
                found.add(column)
        return frozenset(found)


def number(text: str) -> Decimal | None:
    """A cell's number: thousands separators, currency, a percent sign, a leading minus, (negatives)."""
    value = _CURRENCY.sub("", text.strip()).strip().replace("\u2212", "-").replace("\u2009", "")
    value = value.replace("\u00a0", "").replace(" ", "").rstrip("%")
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()")
    if value.startswith("-"):
        negative, value = not negative, value[1:]
    if "," in value and "." in value:
        # The later mark is the decimal one: "1,234.5" and "1.234,5".
        thousands, decimal = (",", ".") if value.rfind(".") > value.rfind(",") else (".", ",")
        value = value.replace(thousands, "").replace(decimal, ".")
    elif "," in value:
        groups = value.split(",")
        is_thousands = all(len(group) == 3 for group in groups[1:]) and 1 <= len(groups[0]) <= 3
        value = value.replace(",", "") if is_thousands else value.replace(",", ".")
    if not _DIGITS.match(value):
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        return None
    return -parsed if negative else parsed


def tables_of(document: Document) -> list[Table]:
    """Every table the document holds, in text order."""
    if document.is_table:
        return [_delimited(document)]
    found = _positioned(document)
    if HEADER_SEPARATOR not in document.text and not (
        _headerless(document) and _KEYED_ROW.search(document.text)
    ):
        return found  # no rendered table: the answer step need not read the text line by line
    return found + _rendered(document)


def _headerless(document: Document) -> bool:
    """Whether the document's loader writes table rows without a header line (Word, HTML...)."""
    return document.metadata.get("type") in _ROWS_WITHOUT_HEADER


def _positioned(document: Document) -> list[Table]:
    """The tables found on a PDF's pages at ingest (rag/ingest/pdf_tables.py), each row one line."""
    tables = []
    text = document.text
    for found in document.metadata.get("tables", ()):
        columns = tuple(clean_cell(text[start:end]) for start, end in found["header"])
        rows = [
            TableRow(
                min(start for _, start, _ in cells),
                max(end for _, _, end in cells),
                {columns[column]: clean_cell(text[start:end]) for column, start, end in cells},
            )
            for cells in found["rows"]
        ]
        note = CONTINUES if found.get("continues") else ""
        tables.append(Table(document, document.title or document.source, columns, tuple(rows), note))
    return tables


def _delimited(document: Document) -> Table:
    columns = tuple(clean_cell(column) for column in document.metadata["columns"])
    delimiter = document.metadata["delimiter"]
    rows = []
    for span in document.row_spans(0, len(document.text)):
        try:
            cells = [clean_cell(cell) for cell in next(csv.reader([span.text], delimiter=delimiter))]
        except (csv.Error, StopIteration):
            continue
        if tuple(cells) == columns or not any(cells):
            continue
        rows.append(TableRow(span.start, span.end, dict(zip(columns, cells, strict=False))))
    return Table(document, document.title or document.source, columns, tuple(rows))


def _rendered(document: Document) -> list[Table]:
    """Header lines "a | b" and the "a: 1; b: 2" lines under them, or two or more such lines without
    a header (Word, OpenDocument and HTML tables) sharing their first column; anything else ends a table."""
    tables: list[Table] = []
    name = document.title or document.source
    columns: tuple[str, ...] = ()
    rows: list[TableRow] = []
    headerless = _headerless(document)
    for line in _LINE.finditer(document.text):
        text = line.group().rstrip()
        if not text.strip():
            continue
        sheet = _SHEET.match(text)
        header = tuple(text.split(HEADER_SEPARATOR))
        cells = _pairs(text, columns) if columns else None
        keyed = _keyed(text) if headerless and not columns else None
        if keyed and rows and next(iter(rows[0].cells)) != next(iter(keyed)):
            keyed = None  # another table's row
        if cells or keyed:
            rows.append(TableRow(line.start(), line.start() + len(text), cells or keyed or {}))
            continue
        tables.extend(_table(document, name, columns, rows))
        rows, columns = [], ()
        keyed = _keyed(text) if headerless else None
        if keyed:
            rows.append(TableRow(line.start(), line.start() + len(text), keyed))
        elif sheet:
            name = sheet.group(1)
        elif len(header) >= 2 and all(cell.strip() for cell in header):
            columns = tuple(cell.strip() for cell in header)
    tables.extend(_table(document, name, columns, rows))
    return tables


def _table(document: Document, name: str, columns: tuple[str, ...], rows: list[TableRow]) -> list[Table]:
    """The rows under their header as a table; rows without one are a table when there are two or
    more, their columns in the order the rows name them."""
    if columns and rows:
        return [Table(document, name, columns, tuple(rows))]
    if len(rows) < 2:
        return []
    named = tuple(dict.fromkeys(column for row in rows for column in row.cells))
    return [Table(document, name, named, tuple(rows))]


def _keyed(line: str) -> dict[str, str] | None:
    """The cells of a row rendered without a header line, "a: 1; b: 2", or None."""
    cells: dict[str, str] = {}
    for piece in line.split(PAIR_SEPARATOR):
        key, separator, value = piece.partition(": ")
        if not separator or not key.strip() or key in cells or len(key) > _MAX_KEY:
            return None
        cells[key] = value
    return cells if len(cells) >= 2 else None


def _pairs(line: str, columns: tuple[str, ...]) -> dict[str, str] | None:
    """The cells of a rendered row "a: 1; b: 2" whose keys are the header's columns, or None."""
    keys = "|".join(re.escape(column) for column in sorted(columns, key=len, reverse=True))
    pieces = re.split(rf"{re.escape(PAIR_SEPARATOR)}(?=(?:{keys}): )", line)
    cells: dict[str, str] = {}
    for piece in pieces:
        key, separator, value = piece.partition(": ")
        if not separator or key not in columns:
            return None
        cells[key] = value
    return cells if len(cells) >= 2 else None
