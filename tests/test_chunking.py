from __future__ import annotations

import itertools

import pytest

from rag.ingest.chunking import split_text


@pytest.mark.parametrize("size,overlap", [(50, 0), (200, 40), (1000, 150)])
def test_every_chunk_is_an_exact_slice_of_the_text(size: int, overlap: int) -> None:
    text = ("Alpha beta gamma.  Delta\tepsilon!\n\nZeta eta — theta? " * 40) + "tail"
    spans = split_text(text, size, overlap)
    assert spans
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert len(span.text) <= size


def test_chunks_cover_the_whole_text_in_order() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(300))
    spans = split_text(text, 200, 20)
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert all(a.start < b.start for a, b in itertools.pairwise(spans))
    assert all(b.start <= a.end + 1 for a, b in itertools.pairwise(spans))


def test_repeated_paragraphs_get_distinct_offsets() -> None:
    text = "Same paragraph again.\n\n" * 30
    spans = split_text(text, 60, 0)
    starts = [span.start for span in spans]
    assert len(set(starts)) == len(starts)
