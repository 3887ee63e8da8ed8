"""Spreadsheets: every row answerable on its own, located by sheet and row; CSV kept as the file itself."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from sample_files import zip_bytes

from rag.errors import DocumentError
from rag.ingest import archive, sheets
from rag.ingest.loaders import load_bytes

BUDGET_CSV = 'department,year,budget_eur\r\nSales,2025,830000\r\n"Research\nand Development",2025,1250000\r\n'


def test_row_reads_with_its_headers_and_knows_its_sheet_and_row(xlsx_file: bytes) -> None:
    loaded = load_bytes("budget.xlsx", xlsx_file)
    row = "department: Research; year: 2025; budget_eur: 1250000; approved: 2025-03-03"
    assert row in loaded.text.splitlines()
    assert loaded.location_at(loaded.text.index(row)) == "sheet Budget, row 3"


def test_whole_floats_lose_their_point_zero(xlsx_file: bytes) -> None:
    assert "budget_eur: 830000\n" in load_bytes("budget.xlsx", xlsx_file).text


def test_every_sheet_is_read_and_blank_rows_keep_numbering(xlsx_file: bytes) -> None:
    loaded = load_bytes("budget.xlsx", xlsx_file)
    assert loaded.location_at(loaded.text.index("name: Ada; role: engineer")) == "sheet Staff, row 3"


def test_sheet_over_the_row_limit_is_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_ROWS", 5)
    workbook = openpyxl.Workbook()
    for number in range(10):
        workbook.active.append([f"item {number}", number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(DocumentError, match="goes past 5 rows"):
        load_bytes("big.xlsx", buffer.getvalue())


def test_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1024 * 1024)
    bomb = zip_bytes({"xl/workbook.xml": b"<a/>", "xl/worksheets/sheet1.xml": b"\0" * (4 * 1024 * 1024)})
    assert len(bomb) < 10_000
    with pytest.raises(DocumentError, match="would unpack to 4 MB, over the 1 MB limit"):
        load_bytes("bomb.xlsx", bomb)


def test_corrupt_workbook_gives_one_line() -> None:
    with pytest.raises(DocumentError, match="is not a readable Excel workbook") as caught:
        load_bytes("broken.xlsx", zip_bytes({"xl/workbook.xml": b"<workbook"}))
    assert "\n" not in str(caught.value)


def test_csv_stored_text_is_the_file_and_rows_point_into_it() -> None:
    loaded = load_bytes("budget.csv", BUDGET_CSV.encode())
    assert loaded.text == BUDGET_CSV
    start = loaded.text.index('"Research')
    assert loaded.location_at(start) == "row 3"
    assert loaded.location_at(loaded.text.index("1250000")) == "row 3"
    assert loaded.metadata["columns"] == ["department", "year", "budget_eur"]


def test_semicolon_csv_is_sniffed_and_tsv_uses_tabs() -> None:
    assert load_bytes("a.csv", b"name;city\nAda;London\n").metadata["delimiter"] == ";"
    loaded = load_bytes("a.tsv", b"name\tcity\nAda\tLondon\n")
    assert loaded.file_type == "tsv"
    assert loaded.location_at(loaded.text.index("Ada")) == "row 2"


def test_xlsx_renamed_to_csv_is_refused(xlsx_file: bytes) -> None:
    with pytest.raises(DocumentError, match=r"budget\.csv is a ZIP archive .*, not csv"):
        load_bytes("budget.csv", xlsx_file)


def test_csv_with_an_unterminated_quote_over_the_field_limit_is_refused() -> None:
    data = b'a,b\n"' + b"x" * 200_000 + b"\n"
    with pytest.raises(DocumentError, match="field larger than field limit"):
        load_bytes("broken.csv", data)


@pytest.mark.parametrize("with_dimension", [True, False])
def test_row_numbers_match_excel_when_data_starts_lower(with_dimension: bool) -> None:
    workbook = openpyxl.Workbook()
    workbook.active["B5"], workbook.active["C5"] = "name", "city"
    workbook.active["B7"], workbook.active["C7"] = "Ada", "London"
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if not with_dimension:  # some writers leave out the <dimension> element
        source = zipfile.ZipFile(io.BytesIO(data))
        data = zip_bytes(
            {name: re.sub(rb"<dimension[^>]*/>", b"", source.read(name)) for name in source.namelist()}
        )
    loaded = load_bytes("offset.xlsx", data)
    assert loaded.location_at(loaded.text.index("name: Ada; city: London")) == "sheet Sheet, row 7"
