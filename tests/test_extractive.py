"""Extractive sentence scoring: what makes one sentence a better answer than another."""

from __future__ import annotations

import pytest

import rag
from rag.answer.extractive import _quantity_match


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many years of war?", "The U.S. may exit after 17 years of war.", 1.0),
        ("How many members were in the delegation?", "It sent a five-member delegation.", 1.0),
        ("How many years of war?", "In 1979 the Soviet Union invaded.", 0.0),  # a year, not a count of years
        ("How many years of war?", "Four decades of war have passed.", 0.0),
        ("When did the war start?", "After 17 years of war.", 0.0),  # not a how-many question
    ],
)
def test_a_count_of_the_asked_thing_is_recognised(question: str, sentence: str, expected: float) -> None:
    assert _quantity_match(question, sentence) == expected


def first_quote(base: rag.KnowledgeBase, text: str, question: str) -> rag.Quote:
    """The first quote of the answer to the question about one document holding the text."""
    base.add_texts([rag.TextItem("notes.txt", text)])
    answer = base.ask(question)
    assert answer.answered
    quote = answer.citations[0].quote
    assert base.document(quote.document_id).text[quote.start : quote.end] == quote.text
    return quote


def test_how_many_prefers_the_sentence_that_counts_the_asked_thing(fake_base: rag.KnowledgeBase) -> None:
    text = (
        "The war in the valley dragged on for a long time and cost the region dearly. "
        "Analysts expect an exit from the valley after 17 years of war. "
        "The war in the valley began when 3 rivers flooded the region."
    )
    assert "17 years of war" in first_quote(fake_base, text, "How many years of war in the valley?").text


def test_a_quote_that_points_back_brings_the_sentence_it_points_at(fake_base: rag.KnowledgeBase) -> None:
    text = (
        "Peyton Manning led the Broncos in the final game of the season. "
        "He is the oldest quarterback to start a title game, at age 39.\n\n"
        "Tickets for the game sold out within an hour of going on sale."
    )
    quote = first_quote(fake_base, text, "Who is the oldest quarterback to start a title game?")
    assert quote.text.startswith("Peyton Manning led the Broncos")
    assert quote.text.endswith("at age 39.")


def test_a_quote_does_not_reach_back_across_a_paragraph(fake_base: rag.KnowledgeBase) -> None:
    text = "The old stadium closed in 1999.\n\nIt was the oldest stadium in the league at the time."
    quote = first_quote(fake_base, text, "Which was the oldest stadium in the league?")
    assert quote.text == "It was the oldest stadium in the league at the time."
