"""Table rows as self-standing text, and table documents read row by row."""

from __future__ import annotations

from rag.tables import render_records, render_row, render_table
from rag.types import Document, Location

CSV = 'department,year,budget_eur\r\nSales,2025,830000\r\n"Research\nand Development",2025,1250000\r\n'


def table_document(text: str = CSV) -> Document:
    rows = (Location(0, "row 1"), Location(28, "row 2"), Location(47, "row 3"))
    metadata = {"columns": ["department", "year", "budget_eur"], "delimiter": ","}
    return Document("id", "budget.csv", "budget", text, metadata, (), rows)


def test_row_pairs_each_value_with_its_header_and_drops_empty_cells() -> None:
    assert (
        render_row(["name", "role", "team"], ["Ada", "", " engineer\n lead "])
        == "name: Ada; team: engineer lead"
    )


def test_table_uses_its_first_row_as_headers() -> None:
    assert render_table([["station", "level_m"], ["Bridge", "4.2"]]) == ["station: Bridge; level_m: 4.2"]


def test_delimited_records_render_with_headers_even_across_line_breaks() -> None:
    assert render_records(CSV[28:], ["department", "year", "budget_eur"], ",") == (
        "department: Sales; year: 2025; budget_eur: 830000\n"
        "department: Research and Development; year: 2025; budget_eur: 1250000"
    )


def test_header_record_renders_as_the_header_line() -> None:
    assert (
        render_records(CSV[:26], ["department", "year", "budget_eur"], ",")
        == "department | year | budget_eur"
    )


def test_rows_of_a_table_document_are_whole_records_and_verbatim() -> None:
    document = table_document()
    spans = document.row_spans(30, 60)
    assert [span.text for span in spans] == ["Sales,2025,830000", '"Research\nand Development",2025,1250000']
    assert all(document.text[span.start : span.end] == span.text for span in spans)
    assert (
        document.readable(spans[0].start, spans[0].end) == "department: Sales; year: 2025; budget_eur: 830000"
    )


def test_text_document_reads_as_itself() -> None:
    document = Document("id", "notes.txt", "notes", "Plain words, no columns.")
    assert not document.is_table
    assert document.readable(0, 5) == "Plain"
    assert document.place_at(3) == ""
