"""rag/ingest/pdf_tables.py: tables on PDF pages found from where their words sit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sample_files import positioned_pdf

import rag
from rag.answer.table_rows import tables_of
from rag.ingest.pdf import load_pdf

COLUMNS = (72, 200, 300, 400)
BUDGETS = (
    ("department", "budget eur", "headcount", "floor"),
    ("Marketing", "1,356,319", "35", "South"),
    ("Old Town", "77,502", "3", "South"),
    ("Research", "1,717,641", "91", "North"),
    ("Legal", "1,812,337", "62", "North"),
)


def table_page(rows: tuple[tuple[str, ...], ...], top: float = 700) -> list[tuple[float, float, str, str]]:
    """The rows drawn as a table: each cell at its column's left edge, a line apart."""
    return [
        (x, top - 18 * index, "F1", cell)
        for index, row in enumerate(rows)
        for x, cell in zip(COLUMNS, row, strict=False)
        if cell
    ]


def budget_pdf() -> bytes:
    title = [(72, 740, "F1", "Department budgets 2025")]
    prose = [(72, 580, "F1", "The budgets were approved by the board in March.")]
    return positioned_pdf([title + table_page(BUDGETS) + prose])


def test_a_table_on_a_pdf_page_is_read_row_by_row_with_its_header() -> None:
    loaded = load_pdf("budgets.pdf", budget_pdf())
    document = rag.Document("d", "budgets.pdf", "budgets", loaded.text, loaded.metadata, loaded.page_starts)
    (table,) = tables_of(document)
    assert table.columns == ("department", "budget eur", "headcount", "floor")
    assert [loaded.text[row.start : row.end] for row in table.rows] == [
        "Marketing 1,356,319 35 South",
        "Old Town 77,502 3 South",
        "Research 1,717,641 91 North",
        "Legal 1,812,337 62 North",
    ]
    assert table.rows[1].cells == {
        "department": "Old Town",
        "budget eur": "77,502",
        "headcount": "3",
        "floor": "South",
    }


def test_an_empty_cell_leaves_its_column_out_of_the_row() -> None:
    rows = (
        ("site", "visitors", "notes"),
        ("North", "120", "new"),
        ("South", "95", ""),
        ("East", "40", "old"),
    )
    loaded = load_pdf("sites.pdf", positioned_pdf([table_page(rows)]))
    (found,) = loaded.metadata["tables"]
    assert [len(row) for row in found["rows"]] == [3, 2, 3]


def test_prose_a_wrapped_cell_and_a_table_without_numbers_are_no_tables() -> None:
    prose = [
        (72, 700 - 14 * line, "F1", f"Line {line} of a paragraph about the harbour.") for line in range(6)
    ]
    wrapped = (
        ("item", "cost"),
        ("Dredging of the inner", "1,250,000"),
        ("basin", ""),
        ("Lights", "84,500"),
    )
    words = (("name", "role"), ("Ada", "pilot"), ("Bo", "cook"), ("Cy", "engineer"))
    pages = [prose, table_page(wrapped), table_page(words)]
    assert "tables" not in load_pdf("notes.pdf", positioned_pdf(pages)).metadata


def test_two_numbers_a_narrow_gap_apart_are_not_read_as_one() -> None:
    # "12 500": one number with a space between its thousands, or two cells? The table is not read.
    rows = (("site", "count"), ("North", "12 500"), ("South", "41"), ("East", "2"))
    assert "tables" not in load_pdf("counts.pdf", positioned_pdf([table_page(rows)])).metadata


def test_numbers_are_computed_from_a_pdf_table_and_each_input_quotes_its_line(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    (tmp_path / "department_budgets.pdf").write_bytes(budget_pdf())
    fake_base.ingest([tmp_path / "department_budgets.pdf"])
    answer = fake_base.ask("What is the combined budget eur of Legal and Research in the department budgets?")
    assert answer.computation is not None, answer.text
    assert answer.computation.formula == "1,812,337 [1] + 1,717,641 [2] = 3,529,978"
    assert [(citation.quote.text, citation.page) for citation in answer.citations] == [
        ("Legal 1,812,337 62 North", 1),
        ("Research 1,717,641 91 North", 1),
    ]
    change = fake_base.ask("By what percent is the budget eur of Legal higher than that of Research?")
    assert change.computation is not None and change.computation.result == "≈ 5.51 %"
    for citation in [*answer.citations, *change.citations]:
        document = fake_base.document(citation.quote.document_id)
        assert document.text[citation.start : citation.end] == citation.quote.text


PRINTED = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font-family: serif; font-size: 12px } td, th { padding: 2px 10px } td.n { text-align: right }
table { border-collapse: collapse } td, th { border: 1px solid #000 }
</style></head><body>
<p>The harbour authority publishes its figures every spring; this paragraph is long enough to wrap
over several lines of the printed page, justified or not, and must never be read as a table.</p>
<table><tr><th>route</th><th>passengers 2022</th><th>passengers 2023</th><th>operator</th></tr>
<tr><td>Island Loop</td><td class="n">48,250</td><td class="n">52,110</td><td>Northline</td></tr>
<tr><td>Harbour Shuttle</td><td class="n">130,400</td><td class="n">118,900</td><td>Citylink</td></tr>
<tr><td>Fjord Express</td><td class="n">22,000</td><td class="n">27,500</td><td>Northline</td></tr></table>
<table style="width: 300px"><tr><th>item</th><th>cost</th></tr>
<tr><td>Dredging of the inner basin and the northern channel near the old pier</td><td class="n">1,250,000</td></tr>
<tr><td>Lights</td><td class="n">84,500</td></tr></table>
</body></html>"""


@pytest.mark.browser
def test_a_table_chromium_prints_to_pdf_is_found_and_a_wrapped_one_is_not(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.set_content(PRINTED)
        data = page.pdf()
    finally:
        page.close()
    loaded = load_pdf("report.pdf", data)
    (found,) = loaded.metadata["tables"]
    assert [loaded.text[start:end] for start, end in found["header"]] == [
        "route",
        "passengers 2022",
        "passengers 2023",
        "operator",
    ]
    rows = [[loaded.text[start:end] for _, start, end in row] for row in found["rows"]]
    assert rows[1] == ["Harbour Shuttle", "130,400", "118,900", "Citylink"] and len(rows) == 3


def test_a_table_right_under_another_starts_at_its_own_header() -> None:
    first = (("site", "visitors"), ("North", "120"), ("South", "95"))
    second = (("item", "cost"), ("Lights", "84,500"), ("Signs", "3,200"))
    page = table_page(first + second)
    found = load_pdf("two.pdf", positioned_pdf([page])).metadata["tables"]
    assert [len(table["rows"]) for table in found] == [2, 2]


def test_a_table_continued_under_its_repeated_header_is_one_table(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    first, second = BUDGETS[:3], (BUDGETS[0], *BUDGETS[3:])
    (tmp_path / "department_budgets.pdf").write_bytes(positioned_pdf([table_page(first), table_page(second)]))
    fake_base.ingest([tmp_path / "department_budgets.pdf"])
    answer = fake_base.ask("What is the total headcount of all departments in the department budgets?")
    assert answer.computation is not None, answer.text
    assert answer.computation.formula == "35 [1] + 3 [2] + 91 [3] + 62 [4] = 191"
    assert [citation.page for citation in answer.citations] == [1, 1, 2, 2]


def test_a_total_over_a_table_at_the_foot_of_a_page_says_rows_may_go_on_unread(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    overleaf = [(72, 700, "F1", "Research 1,717,641 91 North"), (72, 680, "F1", "Signed by the board.")]
    (tmp_path / "department_budgets.pdf").write_bytes(positioned_pdf([table_page(BUDGETS[:3]), overleaf]))
    fake_base.ingest([tmp_path / "department_budgets.pdf"])
    total = fake_base.ask("What is the total headcount of all departments in the department budgets?")
    assert total.computation is not None and total.computation.result == "38"
    assert "rows continued on the next page without its header are not counted" in total.notice
    single = fake_base.ask("What is the headcount of Marketing in the department budgets?")
    assert single.computation is not None and "next page" not in single.notice
