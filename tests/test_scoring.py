"""rag/answer/scoring.py: how a sentence's score is shaped before any rule reads it."""

from __future__ import annotations

from rag.answer.scoring import _length_factor


def test_a_chinese_sentence_is_not_shrunk_as_a_fragment() -> None:
    # One run of characters to a word splitter, thirteen words' worth of text.
    assert _length_factor("1860年，维多利亚女王在伦敦的白金汉宫举行了盛大的庆典活动。") == 1.0


def test_headings_and_fragments_still_are() -> None:
    assert _length_factor("Chapter two.") < 1.0
    assert _length_factor("第二章") < 1.0
    assert _length_factor("The university was founded in 1860 in London.") == 1.0
