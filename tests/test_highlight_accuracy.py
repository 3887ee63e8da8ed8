"""Highlight accuracy on PDFs whose glyph boxes are known from the file (eval.highlight_accuracy):
each quote's highlight covers >= 98% of its glyphs' area and <= 5% of the other glyphs'."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from eval.highlight_accuracy import cases, glyph_boxes, measure

CASES = {case.name: case for case in cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_a_quotes_highlight_covers_its_glyphs_and_spills_on_almost_no_others(
    fake_base: rag.KnowledgeBase, tmp_path: Path, name: str
) -> None:
    results = measure(fake_base, tmp_path, [CASES[name]])
    assert len(results) == len(CASES[name].quotes)
    for result in results:
        assert result.coverage >= 0.98, result
        assert result.spill <= 0.05, result
        # Stricter: the other glyphs lit are at most 5% of the quote's own area.
        assert result.spill_of_quote <= 0.05, result


def test_the_cases_cover_fonts_columns_a_turned_page_and_ligatures() -> None:
    every = list(CASES.values())
    assert len({line.font for case in every for line in case.lines}) >= 3
    assert any(case.rotate == 90 for case in every)
    assert len({line.x for line in CASES["two columns, Helvetica and Times"].lines}) == 2
    texts = " ".join(line.text for case in every for line in case.lines if line.font == "F2")
    assert "office" in texts and "flow" in texts
    assert any(line.kerned and line.word_spacing for case in every for line in case.lines)
    assert any(len(pieces) > 1 for case in every for _, pieces in case.quotes)  # across line breaks
    assert all(any(box is not None for box in boxes) for case in every for boxes in glyph_boxes(case))
