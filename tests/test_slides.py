"""PowerPoint files: slides are pages; titles, text boxes, tables and notes are all kept."""

from __future__ import annotations

import pytest
from sample_files import docx_bytes, zip_bytes

from rag.errors import DocumentError
from rag.ingest.loaders import load_bytes


def test_slide_number_works_like_a_page(pptx_file: bytes) -> None:
    loaded = load_bytes("review.pptx", pptx_file)
    fact = "Research spending rose by 14 percent."
    offset = loaded.text.index(fact)
    assert len(loaded.page_starts) == 3
    assert sum(1 for start in loaded.page_starts if start <= offset) == 2
    assert loaded.location_at(offset) == "slide 2: Budget"


def test_titles_tables_and_speaker_notes_are_kept(pptx_file: bytes) -> None:
    text = load_bytes("review.pptx", pptx_file).text
    assert "Slide 1\nQuarterly review" in text
    assert "department: Research; budget_eur: 1250000" in text
    assert "Speaker notes: Mention the new lab in Leipzig." in text
    assert "Hire two data engineers." in text.split("Slide 3")[1]


def test_title_comes_from_the_first_slide(pptx_file: bytes) -> None:
    assert load_bytes("review.pptx", pptx_file).title == "Quarterly review"


def test_word_file_renamed_to_pptx_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"not a PowerPoint file \(no ppt/presentation\.xml inside\)"):
        load_bytes("deck.pptx", docx_bytes())


def test_corrupt_presentation_gives_one_line() -> None:
    data = zip_bytes({"ppt/presentation.xml": b"not xml"})
    with pytest.raises(DocumentError, match="is not a readable PowerPoint file") as caught:
        load_bytes("deck.pptx", data)
    assert "\n" not in str(caught.value)
