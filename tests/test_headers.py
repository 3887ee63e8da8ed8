"""Contextual chunk headers: title and section go into what a chunk is found by, never into its text."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.ingest.headers import contextual_search_texts
from rag.types import Location, TextSpan

TEXT = "Aspirin and the heart\n\nA first paragraph on dosage.\n\nA second paragraph on bleeding risk."


def _spans(text: str, pieces: list[str]) -> list[TextSpan]:
    return [TextSpan(text.index(piece), text.index(piece) + len(piece), piece) for piece in pieces]


def test_a_chunk_that_lacks_the_title_is_found_with_it() -> None:
    spans = _spans(TEXT, ["Aspirin and the heart", "A second paragraph on bleeding risk."])
    found = contextual_search_texts("123", "Aspirin and the heart", TEXT, spans)
    assert found == ["Aspirin and the heart", "Aspirin and the heart\nA second paragraph on bleeding risk."]


def test_a_file_name_title_adds_nothing() -> None:
    spans = _spans(TEXT, ["A second paragraph on bleeding risk."])
    assert contextual_search_texts("notes/report.txt", "report", TEXT, spans) == []


def test_markdown_chunk_carries_its_section_heading() -> None:
    text = "# Guide\n\nIntro.\n\n## Installing\n\nRun make install.\n\nThen wait for the model to load."
    spans = _spans(text, ["Then wait for the model to load."])
    assert contextual_search_texts("guide.md", "Guide", text, spans) == [
        "Guide\nInstalling\nThen wait for the model to load."
    ]


def test_page_numbers_are_not_headers_but_a_slide_title_is() -> None:
    text = "Budget rises.\n\nCosts fall."
    spans = _spans(text, ["Costs fall."])
    pages = [Location(0, "page 1"), Location(text.index("Costs"), "page 2 (OCR)")]
    assert contextual_search_texts("a.pdf", "a", text, spans, pages) == []
    slides = [Location(text.index("Costs"), "slide 2: Spending plan")]
    assert contextual_search_texts("a.pptx", "a", text, spans, slides) == ["Spending plan\nCosts fall."]


def test_headers_find_a_chunk_but_quotes_stay_verbatim(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    body = " ".join(f"Sentence {n} reports a measured effect in the cohort." for n in range(60))
    item = rag.TextItem(
        "42", f"Zeolite membranes for desalination\n\n{body}", title="Zeolite membranes for desalination"
    )
    with rag.open(tmp_path / "index", embedder=fake_embedder) as base:
        base.add_texts([item])
        passages = base.search("zeolite desalination", k=10, mode="lexical")
        assert len(passages) >= 3, "every chunk of the abstract is found by its title"
        document = base.document(passages[0].document_id)
        assert all(document.text[p.start : p.end] == p.text for p in passages)
        assert all("Zeolite" not in p.text for p in passages if p.start > 0)
