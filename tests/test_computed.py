"""rag/answer/computed.py: numbers computed from quoted table rows, with their formula."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook

import rag
from rag.answer.table_rows import number, tables_of
from rag.serve.chat import evidence_json
from rag.serve.support import checked_answer

BUDGETS = (
    "department,budget_eur,headcount,floor\n"
    'Marketing,"1,356,319",35,South\n'
    "Research,1717641,91,North\n"
    "Legal,1812337,62,North\n"
    "Finance,1410998,9,North\n"
    "Old Town,77502,3,South\n"
    "Town,10,1,South\n"
)


@pytest.fixture
def tables(fake_base: rag.KnowledgeBase, tmp_path: Path) -> rag.KnowledgeBase:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "department_budgets.csv").write_text(BUDGETS)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "fleet register"
    for row in (
        ("vessel", "length_m", "crew", "home_port"),
        ("Aurora", 37, 43, "Tromsø"),
        ("Sea Lantern", 36, 12, "Bergen"),
        ("Kittiwake", 131, 4, "Bergen"),
    ):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    (folder / "fleet.xlsx").write_bytes(data.getvalue())
    (folder / "notes.txt").write_text(
        "The harbour master of Bergen keeps the fleet register up to date every week."
    )
    fake_base.ingest([folder])
    return fake_base


def assert_inputs_are_verbatim_rows(base: rag.KnowledgeBase, answer: rag.Answer) -> None:
    assert answer.citations
    for citation in answer.citations:
        document = base.document(citation.quote.document_id)
        assert document.text[citation.start : citation.end] == citation.quote.text
        assert "\n" not in citation.quote.text  # one whole row
    assert answer.computation is not None
    assert f"“{answer.computation.result}" not in answer.text  # a result is never a quote


@pytest.mark.parametrize(
    ("question", "operation", "result"),
    [
        ("What is the budget eur of Legal in the department budgets?", "lookup", "1812337"),
        (
            "What is the combined budget eur of Legal and Research in the department budgets?",
            "sum",
            "3,529,978",
        ),
        ("What is the total headcount of all departments in the department budgets?", "sum", "201"),
        ("Which department has the highest budget eur in the department budgets?", "max", "Legal"),
        ("Which department has the lowest headcount in the department budgets?", "min", "Town"),
        ("How many departments have a budget eur above 1,410,998 in the department budgets?", "count", "2"),
        ("What is the average headcount of the departments in the department budgets?", "average", "33.5"),
        ("How much higher is the budget eur of Legal than that of Research?", "difference", "94,696"),
        ("What is the total budget eur of the departments with floor North?", "sum", "4,940,976"),
        ("What is the headcount of Old Town in the department budgets?", "lookup", "3"),
    ],
)
def test_table_questions_are_computed_from_quoted_rows(
    tables: rag.KnowledgeBase, question: str, operation: str, result: str
) -> None:
    answer = tables.ask(question)
    assert answer.answered and answer.mode == "computed", answer.text
    assert answer.computation is not None
    assert (answer.computation.operation, answer.computation.result) == (operation, result)
    assert result in answer.text
    assert_inputs_are_verbatim_rows(tables, answer)


def test_every_input_row_is_cited_and_the_formula_shows_each_value(tables: rag.KnowledgeBase) -> None:
    answer = tables.ask("What is the total budget eur of the departments with floor North?")
    assert answer.computation is not None
    assert answer.computation.formula == "1717641 [1] + 1812337 [2] + 1410998 [3] = 4,940,976"
    assert [citation.location for citation in answer.citations] == ["row 3", "row 4", "row 5"]


def test_spreadsheet_rows_are_read_with_their_headers(tables: rag.KnowledgeBase) -> None:
    answer = tables.ask(
        "What is the total length m of the vessels with home port Bergen in the fleet register?"
    )
    assert answer.computation is not None and answer.computation.result == "167"
    assert answer.computation.table == "fleet register"
    assert all(
        citation.location and "sheet fleet register" in citation.location for citation in answer.citations
    )
    assert_inputs_are_verbatim_rows(tables, answer)


def test_a_row_the_table_does_not_have_is_refused_not_guessed(tables: rag.KnowledgeBase) -> None:
    answer = tables.ask("What is the combined budget eur of Legal and Astronomy in the department budgets?")
    assert not answer.answered and answer.text == rag.NOT_FOUND
    assert "no row" in answer.notice


def test_a_question_that_is_not_about_a_tables_numbers_is_answered_by_quotes(
    tables: rag.KnowledgeBase,
) -> None:
    answer = tables.ask("Who keeps the fleet register up to date?")
    assert answer.mode == "extractive" and answer.computation is None


def test_an_inexact_quotient_is_rounded_and_says_so(tables: rag.KnowledgeBase) -> None:
    answer = tables.ask("What is the average crew of the vessels in the fleet register?")
    assert answer.computation is not None and answer.computation.result == "≈ 19.67"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,812,337", "1812337"),
        ("€1.234,50", "1234.50"),
        ("(1,200)", "-1200"),
        ("−7.5%", "-7.5"),
        ("12 500", "12500"),
        ("USD 3.25", "3.25"),
        ("north", None),
        ("1.2.3", None),
    ],
)
def test_cells_read_as_numbers_with_separators_currency_and_signs(text: str, value: str | None) -> None:
    assert number(text) == (None if value is None else Decimal(value))


def test_rendered_tables_keep_each_row_as_one_span() -> None:
    text = "Sheet: crew\n\nname | age\n\nname: Ada; age: 36\n\nname: Bo; age: 41\n\nA closing line of prose."
    document = rag.Document("d", "crew.xlsx", "crew", text)
    (table,) = tables_of(document)
    assert table.name == "crew" and table.columns == ("name", "age")
    assert [text[row.start : row.end] for row in table.rows] == ["name: Ada; age: 36", "name: Bo; age: 41"]


VISITORS = (
    "site,visitors_2019,visitors_2020,visitors_2021,region\n"
    'Westgate,"120,000","90,000",-,Coast\n'
    "Lakeside,0,4200,5100,Inland\n"
    "Hilltop,-200,150,300,Inland\n"
)
HARVEST = "year,tonnes\n2019,1250.5\n2020,1400\n2021,1400\n"


@pytest.fixture
def pairs(tables: rag.KnowledgeBase, tmp_path: Path) -> rag.KnowledgeBase:
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "site_visitors.csv").write_text(VISITORS)
    (folder / "orchard_harvest.csv").write_text(HARVEST)
    tables.ingest([folder])
    return tables


@pytest.mark.parametrize(
    ("question", "operation", "result", "formula"),
    [
        (
            "What is the ratio of the budget eur of Legal to Research in the department budgets?",
            "ratio",
            "≈ 1.06",
            "1812337 [1] / 1717641 [2] ≈ 1.06",
        ),
        (
            "How much larger is the budget eur of Legal than that of Research in percent?",
            "percent",
            "≈ 5.51 %",
            "(1812337 [1] − 1717641 [2]) / 1717641 [2] × 100 ≈ 5.51 %",
        ),
        (
            "By what percent did the visitors of Westgate change from 2019 to 2020 in the site visitors?",
            "change",
            "-25 %",
            "(90,000 [1] − 120,000 [1]) / 120,000 [1] × 100 = -25 %",
        ),
        (
            "By what percentage did the orchard harvest tonnes grow from 2019 to 2020?",
            "change",
            "≈ 11.96 %",
            "(1400 [2] − 1250.5 [1]) / 1250.5 [1] × 100 ≈ 11.96 %",
        ),
        (
            "By what percent did the visitors of Hilltop change from 2019 to 2020 in the site visitors?",
            "change",
            "175 %",
            "(150 [1] − -200 [1]) / |-200 [1]| × 100 = 175 %",
        ),
        (
            "How much did the visitors of Westgate change from 2019 to 2020 in the site visitors?",
            "difference",
            "-30,000",
            "90,000 [1] − 120,000 [1] = -30,000",
        ),
        (
            "How many times larger is the headcount of Research than that of Finance?",
            "ratio",
            "≈ 10.11",
            "91 [1] / 9 [2] ≈ 10.11",
        ),
    ],
)
def test_ratios_and_percent_changes_are_computed_from_quoted_rows_with_their_formula(
    pairs: rag.KnowledgeBase, question: str, operation: str, result: str, formula: str
) -> None:
    answer = pairs.ask(question)
    assert answer.answered and answer.mode == "computed", (answer.text, answer.notice)
    assert answer.computation is not None
    computation = answer.computation
    assert (computation.operation, computation.result, computation.formula) == (operation, result, formula)
    assert formula in answer.text
    assert ("rounded half to even to two decimals" in answer.text) == result.startswith("≈")
    assert computation.rounding == ("rounded half to even to two decimals" if "≈" in result else "")
    assert_inputs_are_verbatim_rows(pairs, answer)


def test_a_percent_change_names_what_changed_and_travels_in_json(pairs: rag.KnowledgeBase) -> None:
    answer = pairs.ask("By what percentage did the orchard harvest tonnes grow from 2019 to 2020?")
    assert answer.text.startswith("Change in tonnes from 2019 to 2020: ")
    assert [citation.quote.text for citation in answer.citations] == ["2019,1250.5", "2020,1400"]
    computed = answer.to_dict()["computation"]
    assert computed["operation"] == "change" and computed["result"] == "≈ 11.96 %"
    assert computed["rounding"] == "rounded half to even to two decimals"


@pytest.mark.parametrize(
    ("question", "why"),
    [
        (
            "By what percent did the visitors of Lakeside change from 2019 to 2020 in the site visitors?",
            "zero",
        ),
        ("What is the ratio of the budget eur of Legal to Astronomy in the department budgets?", "no row"),
        ("By what percent did the orchard harvest tonnes grow from 2019 to 2024?", "no row"),
        (
            "By what percent did the visitors of Westgate change from 2020 to 2022 in the site visitors?",
            "no row",
        ),
    ],
)
def test_a_ratio_to_zero_or_a_missing_input_is_refused_not_guessed(
    pairs: rag.KnowledgeBase, question: str, why: str
) -> None:
    answer = pairs.ask(question)
    assert not answer.answered and answer.text == rag.NOT_FOUND, answer.text
    assert answer.computation is None
    assert why in answer.notice


def test_word_and_html_tables_are_computed_from_their_rows_without_a_header_line(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    word = docx.Document()
    word.add_paragraph("Crew of the fleet, counted in May.")
    table = word.add_table(rows=0, cols=3)
    for values in (("vessel", "crew", "home port"), ("Aurora", "43", "Tromsø"), ("Kittiwake", "4", "Bergen")):
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    data = io.BytesIO()
    word.save(data)
    (tmp_path / "fleet_crew.docx").write_bytes(data.getvalue())
    (tmp_path / "clinic_staff.html").write_text(
        "<html><body><p>Staff of the clinic.</p><table><tr><th>department</th><th>nurses</th>"
        "<th>doctors</th></tr><tr><td>Cardiology</td><td>42</td><td>11</td></tr>"
        "<tr><td>Oncology</td><td>35</td><td>14</td></tr></table></body></html>"
    )
    fake_base.ingest([tmp_path])
    crew = fake_base.ask("What is the ratio of the crew of Aurora to Kittiwake in the fleet crew?")
    assert crew.computation is not None and crew.computation.formula == "43 [1] / 4 [2] = 10.75"
    assert crew.citations[0].quote.text == "vessel: Aurora; crew: 43; home port: Tromsø"
    staff = fake_base.ask("What is the ratio of nurses to doctors in Cardiology in the clinic staff?")
    assert staff.computation is not None and staff.computation.formula == "42 [1] / 11 [1] ≈ 3.82"
    assert staff.citations[0].quote.text == "department: Cardiology; nurses: 42; doctors: 11"
    for answer in (crew, staff):
        assert_inputs_are_verbatim_rows(fake_base, answer)


def test_lines_that_only_look_like_one_row_are_no_table() -> None:
    text = "Note: the figures are provisional; Source: the harbour office.\n\nThe rest is prose: 12 ships."
    assert tables_of(rag.Document("d", "notes.docx", "notes", text, {"type": "docx"})) == []


def test_a_chat_completion_carries_the_computation_next_to_the_citations(pairs: rag.KnowledgeBase) -> None:
    answer = pairs.ask("By what percentage did the orchard harvest tonnes grow from 2019 to 2020?")
    extra = evidence_json(answer, checked_answer(answer, drop_unsupported=False))
    assert extra["computation"]["formula"] == "(1400 [2] − 1250.5 [1]) / 1250.5 [1] × 100 ≈ 11.96 %"
    assert extra["computation"]["rounding"] == "rounded half to even to two decimals"
    assert [citation["quote"] for citation in extra["citations"]] == ["2019,1250.5", "2020,1400"]
    plain = pairs.ask("Who keeps the fleet register up to date?")
    assert evidence_json(plain, checked_answer(plain, drop_unsupported=False))["computation"] is None


@pytest.mark.parametrize(
    ("question", "operation", "formula"),
    [
        (
            "What is the total orchard harvest tonnes from 2019 to 2021?",
            "sum",
            "1250.5 [1] + 1400 [2] + 1400 [3] = 4,050.5",
        ),
        (
            "What was the average orchard harvest tonnes between 2020 and 2021?",
            "average",
            "(1400 [1] + 1400 [2]) / 2 = 1,400",
        ),
    ],
)
def test_a_span_of_years_takes_every_year_in_it(
    pairs: rag.KnowledgeBase, question: str, operation: str, formula: str
) -> None:
    answer = pairs.ask(question)
    assert answer.computation is not None, answer.text
    assert (answer.computation.operation, answer.computation.formula) == (operation, formula)


def test_a_column_of_percentages_compared_gives_points_not_a_percent_change(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    (tmp_path / "market_share.csv").write_text("company,share_percent\nNorthline,42.5%\nCitylink,30%\n")
    fake_base.ingest([tmp_path / "market_share.csv"])
    points = fake_base.ask("How much higher is the share percent of Northline than that of Citylink?")
    assert points.computation is not None and points.computation.operation == "difference"
    assert points.computation.formula == "42.5% [1] − 30% [2] = 12.5"
    relative = fake_base.ask(
        "By what percent is the share percent of Northline higher than that of Citylink?"
    )
    assert relative.computation is not None and relative.computation.result == "≈ 41.67 %"


@pytest.mark.parametrize(
    ("question", "formula"),
    [
        (
            "What percentage of the total headcount of the departments is Legal's?",
            "62 [1] / (35 [2] + 91 [3] + 62 [1] + 9 [4] + 3 [5] + 1 [6]) × 100 ≈ 30.85 %",
        ),
        (
            "What share of the total budget eur of the departments with floor North does Finance have?",
            "1410998 [1] / (1717641 [2] + 1812337 [3] + 1410998 [1]) × 100 ≈ 28.56 %",
        ),
    ],
)
def test_a_share_of_a_total_quotes_the_row_and_every_row_of_the_total(
    tables: rag.KnowledgeBase, question: str, formula: str
) -> None:
    answer = tables.ask(question)
    assert answer.computation is not None and answer.computation.operation == "share", answer.text
    assert answer.computation.formula == formula
    assert_inputs_are_verbatim_rows(tables, answer)
