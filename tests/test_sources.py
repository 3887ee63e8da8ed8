"""Source constraints: "according to X", "in the X piece" restrict the evidence to documents named X."""

from __future__ import annotations

import pytest

import rag
from rag.answer.measures import states_measure, without_measure
from rag.answer.sources import source_constraint


@pytest.mark.parametrize(
    ("question", "name", "query"),
    [
        (
            "What is the population of Afghanistan given in the Stratfor piece?",
            "Stratfor",
            "What is the population of Afghanistan?",
        ),
        (
            "How many years of war, according to the Washington Post piece?",
            "Washington Post",
            "How many years of war?",
        ),
        (
            "According to the AAA, what share of gas stations ran dry?",
            "AAA",
            "What share of gas stations ran dry?",
        ),
        ("What is the research budget in the budget sheet?", "budget", "What is the research budget?"),
    ],
)
def test_the_named_source_is_taken_out_of_the_query(question: str, name: str, query: str) -> None:
    constraint = source_constraint(question)
    assert constraint is not None and (constraint.name, constraint.query) == (name, query)


def test_a_question_naming_no_source_has_no_constraint() -> None:
    assert source_constraint("Who wrote the Washington Post article about the Kremlin?") is None


TEXTS = [
    rag.TextItem(
        "stratfor.txt", "The valley has a population of 35 million people.", title="Stratfor analysis"
    ),
    rag.TextItem(
        "post.txt", "The valley has a population of 20 million people.", title="Washington Post report"
    ),
]


def test_according_to_a_named_document_quotes_only_that_document(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(TEXTS)
    for title, number in (("Washington Post", "20 million"), ("Stratfor", "35 million")):
        answer = fake_base.ask(f"What is the population of the valley, according to the {title} piece?")
        assert answer.answered
        assert {citation.title for citation in answer.citations} == {
            TEXTS[0 if number == "35 million" else 1].title
        }
        assert number in answer.citations[0].quote.text
        assert {passage.title for passage in answer.passages} == {answer.citations[0].title}
        assert f"named “{title}”" in answer.notice


def test_a_name_no_document_goes_by_leaves_the_question_as_it_is(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(TEXTS)
    answer = fake_base.ask("What is the population of the valley, according to the analysts?")
    assert answer.query == "What is the population of the valley, according to the analysts?"
    assert len({passage.title for passage in answer.passages}) == 2
    assert answer.notice == ""


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("What is the population of Afghanistan?", "It is a landlocked country of 35 million.", True),
        ("How many people live in Afghanistan?", "About 35 million people live there.", True),
        ("How many people live in Afghanistan?", "In 1979 the Soviet Union invaded.", False),
        ("How many soldiers died?", "A country of 35 million.", False),
    ],
)
def test_a_population_is_found_in_other_words(question: str, sentence: str, expected: bool) -> None:
    assert states_measure(question, sentence) is expected


def test_the_measure_words_are_not_what_a_passage_must_be_about() -> None:
    assert "population" not in without_measure("What is the population of Afghanistan?")


@pytest.mark.model
def test_the_stratfor_piece_gives_the_population(seeds_base: rag.KnowledgeBase) -> None:
    answer = seeds_base.ask("What is the population of Afghanistan given in the Stratfor piece?")
    assert answer.answered
    assert "the landlocked country of 35 million" in answer.citations[0].quote.text
    assert answer.query == "What is the population of Afghanistan?"
