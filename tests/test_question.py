"""rag/answer/question.py: a question is checked once, where it enters, for every caller."""

from __future__ import annotations

import pytest

import rag
from rag.answer.question import (
    MAX_HISTORY_CHARS,
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MAX_TURN_CHARS,
    QuestionError,
    prepare_question,
)


def test_question_is_cleaned_and_options_resolve_against_the_settings() -> None:
    settings = rag.Settings(top_k=4, retrieval_mode="dense", answer_mode="extractive")
    prepared = prepare_question("  Who built it? \ud800 ", None, settings)
    assert prepared.text.startswith("Who built it? \ufffd") and "\ud800" not in prepared.text
    assert (prepared.k, prepared.depth, prepared.retrieval_mode, prepared.answer_mode) == (
        4,
        4,
        "dense",
        "extractive",
    )
    assert prepared.query == "" and prepared.history == ()


def test_options_override_the_settings_and_depth_is_never_below_k() -> None:
    options = rag.AskOptions(k=7, depth=3, retrieval_mode="lexical", query=" rivers ")
    prepared = prepare_question("Which rivers?", options, rag.Settings())
    assert (prepared.k, prepared.depth, prepared.retrieval_mode, prepared.query) == (
        7,
        7,
        "lexical",
        "rivers",
    )


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("   ", None, "the question is empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), None, f"the limit is {MAX_QUESTION_CHARS}"),
        ("Why?", rag.AskOptions(k=0), "between 1 and"),
        ("Why?", rag.AskOptions(retrieval_mode="fuzzy"), "unknown retrieval mode 'fuzzy'"),  # type: ignore[arg-type]
        ("Why?", rag.AskOptions(answer_mode="poetry"), "unknown answer mode 'poetry'"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_question_or_option_is_one_clear_error(
    text: str, options: rag.AskOptions | None, message: str
) -> None:
    with pytest.raises(rag.RagError, match=message):
        prepare_question(text, options, rag.Settings())


def test_a_long_question_is_refused_by_every_caller_before_any_search(
    fake_base: rag.KnowledgeBase,
) -> None:
    fake_base.add_texts([rag.TextItem("a.txt", "The lighthouse keeper lived on Pemba island for years.")])
    with pytest.raises(QuestionError, match="characters"):
        fake_base.ask_stream("Where? " * 400)  # raised when asked, not when the stream is read


def turn_texts(turn: object) -> list[str]:
    if isinstance(turn, dict):
        return [str(turn["content"])]
    return [turn] if isinstance(turn, str) else list(turn)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "long_turn",
    [
        {"role": "user", "content": "What about the Alpha team schedule " + "and the room " * 25000},
        "What about the Alpha team schedule " + "and the room " * 25000,
        ("What about the room " * 20000, "ok " * 100000),
    ],
)
def test_earlier_turns_are_cut_and_bounded_in_all_whatever_their_form(long_turn: object) -> None:
    history = [long_turn, {"role": "assistant", "content": "ok"}] * 3 + [None, 7]
    prepared = prepare_question("And the code?", rag.AskOptions(history=history), rag.Settings())  # type: ignore[arg-type]
    texts = [text for turn in prepared.history for text in turn_texts(turn)]
    assert all(len(text) <= MAX_TURN_CHARS for text in texts)
    assert sum(map(len, texts)) <= MAX_HISTORY_CHARS
    assert texts[-1] == "ok"  # the most recent turns are the ones kept


def test_a_long_chat_keeps_only_its_recent_turns() -> None:
    history = [{"role": "user", "content": f"Question {number}?"} for number in range(500)]
    prepared = prepare_question("And then?", rag.AskOptions(history=history), rag.Settings())
    assert len(prepared.history) == MAX_HISTORY_TURNS
    assert prepared.history[-1] == {"role": "user", "content": "Question 499?"}
