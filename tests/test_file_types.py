"""Every file type end to end: ingested, then a question answered with a verbatim quote and its place."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sample_files

import rag

NEEDS_TESSERACT = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="needs tesseract-ocr (make install installs it)"
)
DEPARTMENTS = ["Sales", "Marketing", "Legal", "Finance", "Support", "Logistics", "Facilities", "Training"]


def budget_csv(delimiter: str = ",") -> bytes:
    """A table long enough that the Research row's chunk does not hold the header row."""
    rows = [["department", "year", "budget_eur"]]
    rows += [
        [f"{name} {year}", str(year), str(100000 + 1000 * index)]
        for index, (name, year) in enumerate(
            (name, year) for year in range(2000, 2008) for name in DEPARTMENTS
        )
    ]
    rows.insert(50, ["Research", "2025", "1250000"])
    return "".join(delimiter.join(row) + "\r\n" for row in rows).encode()


# name, file builder, question, words the quote must hold, its location, its page
CASES: list[tuple[str, Callable[[], bytes], str, str, str | None, int | None]] = [
    (
        "report.docx",
        sample_files.docx_bytes,
        "How many engineers does the team have?",
        "The team has twelve engineers.",
        "section: Staff",
        None,
    ),
    (
        "review.pptx",
        sample_files.pptx_bytes,
        "By how much did research spending rise?",
        "Research spending rose by 14 percent.",
        "slide 2: Budget",
        2,
    ),
    (
        "budget.xlsx",
        sample_files.xlsx_bytes,
        "What is the role of Ada?",
        "name: Ada; role: engineer",
        "sheet Staff, row 3",
        None,
    ),
    (
        "budget.csv",
        budget_csv,
        "What is the budget_eur of the Research department in 2025?",
        "Research,2025,1250000",
        "row 51",
        None,
    ),
    (
        "budget.tsv",
        lambda: budget_csv("\t"),
        "What is the budget_eur of the Research department in 2025?",
        "Research\t2025\t1250000",
        "row 51",
        None,
    ),
    (
        "lab.epub",
        sample_files.epub_bytes,
        "How many staff did the lab have by 2010?",
        "By 2010 the lab had forty staff.",
        "chapter 2: Growth",
        None,
    ),
    (
        "notes.odt",
        sample_files.odt_bytes,
        "How far did the river rise in April?",
        "The river rose  by two metres in April.",
        "section: Field notes",
        None,
    ),
    pytest.param(
        "scan.pdf",
        lambda: sample_files.scanned_pdf_bytes(
            [["Quarterly report of the map library."], ["The archive holds 4200 old maps of the coast."]]
        ),
        "How many old maps does the archive hold?",
        "The archive holds 4200 old maps of the coast.",
        "page 2 (OCR)",
        2,
        marks=NEEDS_TESSERACT,
    ),
    pytest.param(
        "whiteboard.png",
        lambda: sample_files.png_bytes(["The launch moved to the ninth of May."]),
        "When did the launch move?",
        "The launch moved to the ninth of May.",
        "page 1 (OCR)",
        1,
        marks=NEEDS_TESSERACT,
    ),
]


@pytest.mark.parametrize(("name", "build", "question", "fact", "location", "page"), CASES)
def test_question_is_answered_with_a_verbatim_quote_and_its_place(
    fake_base: rag.KnowledgeBase,
    tmp_path: Path,
    name: str,
    build: Callable[[], bytes],
    question: str,
    fact: str,
    location: str | None,
    page: int | None,
) -> None:
    path = tmp_path / name
    path.write_bytes(build())
    report = fake_base.ingest([path])
    assert report.count("added") == 1, report.files
    answer = fake_base.ask(question)
    assert answer.answered
    citation = next(citation for citation in answer.citations if fact in citation.quote.text)
    document = fake_base.document(citation.quote.document_id)
    assert document.text[citation.start : citation.end] == citation.quote.text
    assert (citation.location, citation.page) == (location, page)
    assert citation.place == location
    assert citation.to_dict()["location"] == location


def test_csv_row_is_found_and_scored_with_its_column_headers(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_bytes(budget_csv())
    fake_base.ingest([tmp_path / "budget.csv"])
    (passage,) = fake_base.search("budget_eur Research 2025", k=1, mode="lexical")
    assert "Research,2025,1250000" in passage.text
    assert "budget_eur" not in passage.text  # found through its headers: the header row is elsewhere
    assert passage.location is not None and passage.location != "row 1"
    answer = fake_base.ask("What is the budget_eur of the Research department in 2025?")
    assert answer.citations[0].quote.text == "Research,2025,1250000"


def test_csv_stored_text_is_the_file_and_chunks_are_whole_rows(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    data = budget_csv()
    (tmp_path / "budget.csv").write_bytes(data)
    fake_base.ingest([tmp_path / "budget.csv"])
    document = fake_base.document(str(tmp_path / "budget.csv"))
    assert document.text == data.decode()
    for passage in fake_base.search("budget", k=20, mode="lexical"):
        assert passage.start == 0 or document.text[passage.start - 1] == "\n"
        assert document.text[passage.end] == "\r"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.docx", b"just some text", r"notes\.docx is not a Word document \(it is not a ZIP archive\)"),
        (
            "deck.pptx",
            sample_files.docx_bytes(),
            r"not a PowerPoint file \(no ppt/presentation\.xml inside\)",
        ),
        ("broken.xlsx", sample_files.zip_bytes({"xl/workbook.xml": b"<workbook"}), "not a readable Excel"),
        ("budget.csv", sample_files.xlsx_bytes(), r"budget\.csv is a ZIP archive"),
        ("table.tsv", b"a\tb\n\x00\x01\x02", "looks binary"),
        ("book.epub", sample_files.zip_bytes({"mimetype": b"application/epub+zip"}), "not an EPUB book"),
        (
            "notes.odt",
            sample_files.zip_bytes({"mimetype": b"x", "content.xml": b"<a"}),
            "not a text document",
        ),
        ("scan.png", b"<html>not a picture</html>", r"scan\.png is not an image to read"),
        ("scan.tiff", b"II*\x00garbage", "is not a readable image"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "encrypted or pre-2007 Office file"),
    ],
)
def test_malformed_file_fails_with_a_one_line_reason_and_the_rest_is_kept(
    fake_base: rag.KnowledgeBase, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "fine.txt").write_text("The archive opens at nine in the morning.")
    report = fake_base.ingest([tmp_path])
    (failed,) = report.failed
    assert failed.source.endswith(name)
    assert "\n" not in failed.reason
    assert re.search(reason, failed.reason), failed.reason
    assert report.count("added") == 1


def test_every_new_type_is_supported_for_upload_cli_and_api() -> None:
    new_types = {
        ".docx",
        ".pptx",
        ".xlsx",
        ".csv",
        ".tsv",
        ".epub",
        ".odt",
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
    }
    assert new_types <= rag.SUPPORTED_SUFFIXES
