"""FilePreparer: one file or text to a chunked document, with no store and no model."""

from __future__ import annotations

from pathlib import Path

from sample_files import make_pdf

import rag
from rag.ingest.hashing import content_hash
from rag.ingest.preparing import FileLimits, FilePreparer, Prepared, outcome_from_json, outcome_to_json


def test_a_file_is_chunked_with_exact_offsets_and_named_added_or_updated(tmp_path: Path) -> None:
    path = tmp_path / "tea.txt"
    path.write_text("Green tea is made from unoxidised leaves. " * 60)
    preparer = FilePreparer(200, 20)
    added = preparer.prepare_file(path, None)
    assert isinstance(added, Prepared) and added.status == "added"
    document = added.document
    assert len(document.spans) > 5
    assert all(document.text[span.start : span.end] == span.text for span in document.spans)
    updated = preparer.prepare_file(path, "an older hash")
    assert isinstance(updated, Prepared) and updated.status == "updated"


def test_an_unchanged_file_is_not_read_further(tmp_path: Path) -> None:
    path = tmp_path / "tea.txt"
    path.write_text("Green tea.")
    parsed: list[str] = []
    outcome = FilePreparer(200, 20).prepare_file(
        path, content_hash(path.read_bytes()), lambda: parsed.append("x")
    )
    assert outcome == rag.FileResult(str(path), "unchanged") and not parsed


def test_a_text_over_the_chunk_limit_fails_alone_with_the_limit_named() -> None:
    preparer = FilePreparer(100, 0, FileLimits(max_chunks=3))
    outcome = preparer.prepare_text(rag.TextItem("long.txt", "word " * 400), None)
    assert isinstance(outcome, rag.FileResult) and outcome.status == "failed"
    assert "RAG_MAX_CHUNKS_PER_FILE" in (outcome.reason or "")


def test_what_a_worker_prepares_travels_as_json_and_comes_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "budget.csv"
    path.write_text("department,year\nResearch,2025\nSales,2024\n")
    prepared = FilePreparer(200, 20).prepare_file(path, None)
    assert isinstance(prepared, Prepared) and prepared.document.locations and prepared.document.search_texts
    assert prepared.sentences[1:] == ("department: Research; year: 2025", "department: Sales; year: 2024")
    back = outcome_from_json(outcome_to_json(prepared))
    assert isinstance(back, Prepared)
    assert back.to_json() == prepared.to_json() and back.document.spans == prepared.document.spans
    assert back.sentences == prepared.sentences
    failed = rag.FileResult("x.pdf", "failed", reason="damaged", warnings=("one",))
    assert outcome_from_json(outcome_to_json(failed)) == failed


def test_the_sentences_answers_quote_come_once_each_in_document_order() -> None:
    text = (
        "Green tea cools quickly in a cup. Milk softens its bitter taste."
        " Green tea cools quickly in a cup. Sugar changes nothing at all."
    )
    prepared = FilePreparer(200, 20).prepare_text(rag.TextItem("tea", text), None)
    assert isinstance(prepared, Prepared)
    assert prepared.sentences == (
        "Green tea cools quickly in a cup.",
        "Milk softens its bitter taste.",
        "Sugar changes nothing at all.",
    )


def test_a_pdfs_page_positions_travel_with_it_as_json(tmp_path: Path) -> None:
    path = tmp_path / "bridge.pdf"
    path.write_bytes(make_pdf("The north bridge was repainted in October.", "The ferry runs in May."))
    prepared = FilePreparer(200, 20).prepare_file(path, None)
    assert isinstance(prepared, Prepared) and [page.page for page in prepared.document.geometry] == [1, 2]
    back = outcome_from_json(outcome_to_json(prepared))
    assert isinstance(back, Prepared) and back.document.geometry == prepared.document.geometry


def test_rows_longer_than_a_chunk_are_split_so_no_chunk_passes_the_chunk_size(tmp_path: Path) -> None:
    columns = 20_000  # the report's file had a million; the bound is the same
    wide = tmp_path / "wide.csv"
    wide.write_text(
        ",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("v" for _ in range(columns)) + "\n"
        "short,row\n"
    )
    prepared = FilePreparer(500, 50).prepare_file(wide, None)
    assert isinstance(prepared, Prepared)
    document = prepared.document
    assert len(document.spans) > 100
    for span, search_text in zip(document.spans, document.search_texts, strict=True):
        assert len(span.text) <= 500 and document.text[span.start : span.end] == span.text
        assert len(search_text) <= 4 * 500
    assert any(search_text.startswith("c0") for search_text in document.search_texts)
