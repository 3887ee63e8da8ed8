"""Word documents: text in order, structure readable, facts locatable."""

from __future__ import annotations

import pytest
from sample_files import docx_bytes, zip_bytes

from rag.errors import DocumentError
from rag.ingest.loaders import load_bytes


def test_fact_sentence_is_verbatim_under_its_heading(docx_file: bytes) -> None:
    loaded = load_bytes("report.docx", docx_file)
    fact = "The research budget for 2025 is 1250000 euros."
    assert fact in loaded.text
    assert loaded.location_at(loaded.text.index(fact)) == "section: Budget"
    assert loaded.title == "Annual report"


def test_headings_sit_on_their_own_lines(docx_file: bytes) -> None:
    text = load_bytes("report.docx", docx_file).text
    assert "\n\nBudget\n\n" in text
    assert "\n\nStaff\n\n" in text


def test_table_rows_carry_their_column_headers(docx_file: bytes) -> None:
    loaded = load_bytes("report.docx", docx_file)
    assert "department: Research; year: 2025; budget_eur: 1250000" in loaded.text.splitlines()
    assert "department | year" not in loaded.text


def test_list_items_get_bullets_and_running_numbers(docx_file: bytes) -> None:
    lines = load_bytes("report.docx", docx_file).text.splitlines()
    assert "- Keep receipts" in lines
    assert lines.index("1. File the claim") + 1 == lines.index("2. Wait for approval")


def test_footnote_is_marked_in_text_and_listed_at_the_end(docx_file: bytes) -> None:
    loaded = load_bytes("report.docx", docx_file)
    assert "1250000 euros.[1]" in loaded.text
    note = "[1] The audit was done by Example Partners LLP."
    assert loaded.text.endswith(note)
    assert loaded.location_at(loaded.text.index(note)) == "footnotes"


def test_text_file_renamed_to_docx_is_refused_in_one_line() -> None:
    with pytest.raises(DocumentError, match=r"is not a Word document \(it is not a ZIP archive\)") as caught:
        load_bytes("notes.docx", b"just some text")
    assert "\n" not in str(caught.value)


def test_zip_without_word_document_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"no word/document\.xml inside"):
        load_bytes("photos.docx", zip_bytes({"a.txt": b"hello"}))


def test_old_binary_word_file_is_named_as_such() -> None:
    with pytest.raises(DocumentError, match="encrypted or pre-2007 Office file"):
        load_bytes("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)


def test_corrupt_document_part_gives_a_reason_not_a_traceback() -> None:
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document><unclosed>"})
    with pytest.raises(DocumentError, match="is not a readable Word document") as caught:
        load_bytes("broken.docx", data)
    assert "\n" not in str(caught.value)


def test_truncated_file_is_a_damaged_zip() -> None:
    data = docx_bytes()
    with pytest.raises(DocumentError, match="damaged ZIP archive"):
        load_bytes("cut.docx", data[: len(data) // 2])
