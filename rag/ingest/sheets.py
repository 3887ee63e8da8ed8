"""Text of spreadsheets: .xlsx rendered row by row with column headers; .csv/.tsv kept as the file itself."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import PurePath
from typing import Any

import openpyxl

from rag.errors import DocumentError
from rag.ingest.archive import open_container
from rag.ingest.blocks import TextBuilder, reason
from rag.ingest.decoding import decode
from rag.tables import render_header, render_row, split_lines
from rag.types import LoadedFile, Location

MAX_ROWS = 200_000
MAX_CELLS = 2_000_000
_SNIFF_CHARS = 64 * 1024


def load_xlsx(name: str, data: bytes) -> LoadedFile:
    """Every sheet of an .xlsx: one line per row, "header: value; ...", located by sheet and row."""
    open_container(name, data, "xlsx").close()
    builder = TextBuilder()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for malformed parts
        raise DocumentError(
            f"{name} is not a readable Excel workbook ({reason(error)}); re-save it"
        ) from error
    try:
        cells = 0
        for sheet in workbook.worksheets:
            cells += _write_sheet(name, sheet, builder, MAX_CELLS - cells)
        title = (workbook.properties.title or "").strip()
    except DocumentError:
        raise
    except Exception as error:  # a damaged sheet part only fails once its rows are read
        raise DocumentError(
            f"{name} is not a readable Excel workbook ({reason(error)}); re-save it"
        ) from error
    finally:
        workbook.close()
    if not builder.locations:
        raise DocumentError(f"{name} has no filled cells; there is nothing to index")
    return LoadedFile(
        name, title or PurePath(name).stem, builder.text, (), "xlsx", (), tuple(builder.locations)
    )


def _write_sheet(name: str, sheet: Any, builder: TextBuilder, cells_left: int) -> int:
    """Append one sheet's rows; return how many cells were read."""
    headers: list[str] | None = None
    cells = 0
    # Explicit min_row=1: read-only sheets pad the rows before the data, so counting from 1 is the row number.
    for row_number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        cells += len(values)
        if cells > cells_left or row_number > MAX_ROWS:
            raise DocumentError(
                f"{name}: sheet {sheet.title!r} goes past {MAX_ROWS} rows or {MAX_CELLS} cells;"
                " split the workbook or export the part that matters"
            )
        texts = [format_cell(value) for value in values]
        if not any(texts):
            continue
        if headers is None:
            headers = texts
            builder.add(f"Sheet: {sheet.title}", label=f"sheet {sheet.title}")
            builder.add(render_header(texts), label=f"sheet {sheet.title}, row {row_number}")
            continue
        builder.add(render_row(headers, texts), label=f"sheet {sheet.title}, row {row_number}")
    return cells


def format_cell(value: Any) -> str:
    """A cell value as a person reads it: whole floats without ".0", dates without midnight."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    return str(value)


def load_delimited_file(name: str, data: bytes) -> LoadedFile:
    """A .csv/.tsv file: its decoded text is the stored text, each record a "row n" location."""
    text, warnings = decode(data, None)
    loaded = load_delimited(name, text)
    return replace(loaded, warnings=loaded.warnings + warnings)


def load_delimited(name: str, text: str) -> LoadedFile:
    """Keep a decoded .csv/.tsv as its stored text; each record is a location "row n" (the header is row 1)."""
    delimiter = "\t" if PurePath(name).suffix.lower() == ".tsv" else _sniff_delimiter(text)
    locations: list[Location] = []
    headers: list[str] = []
    lines = _Lines(text)
    try:
        for row_number, record in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
            if row_number > MAX_ROWS:
                raise DocumentError(f"{name} has more than {MAX_ROWS} rows; split it")
            if any(field.strip() for field in record):
                headers = headers or [field.strip() for field in record]
                locations.append(Location(lines.record_start, f"row {row_number}"))
            lines.record_start = lines.consumed
    except csv.Error as error:
        raise DocumentError(f"{name} is not a readable {delimiter!r}-separated file ({error})") from error
    if not locations:
        raise DocumentError(f"{name} has no rows; there is nothing to index")
    metadata = {"columns": headers, "delimiter": delimiter}
    file_type = "tsv" if delimiter == "\t" else "csv"
    return LoadedFile(name, PurePath(name).stem, text, (), file_type, (), tuple(locations), metadata)


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


class _Lines:
    """Feeds csv.reader one physical line at a time, counting the characters it has consumed."""

    def __init__(self, text: str) -> None:
        self.lines = iter(split_lines(text))
        self.consumed = 0
        self.record_start = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.consumed += len(line)
        return line
