from __future__ import annotations

from rag.search.rewrite import is_follow_up, previous_questions, rewrite_follow_up


def test_follow_up_carries_entities_of_the_previous_question() -> None:
    history = [
        {"role": "user", "content": "What role does Russia play in Afghanistan?"},
        {"role": "assistant", "content": "..."},
    ]
    query = rewrite_follow_up("and what about Pakistan?", history)
    assert query.startswith("and what about Pakistan?")
    assert "Russia" in query and "Afghanistan" in query


def test_standalone_question_is_not_rewritten() -> None:
    history = ["What role does Russia play in Afghanistan?"]
    question = "Which countries attended the multinational conference in Moscow?"
    assert not is_follow_up(question)
    assert rewrite_follow_up(question, history) == question


def test_no_history_means_no_rewrite() -> None:
    assert rewrite_follow_up("and them?", None) == "and them?"


def test_history_accepts_strings_pairs_and_message_dicts() -> None:
    history = [
        "one",
        ("two", "answer"),
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": "three"},
    ]
    assert previous_questions(history) == ["one", "two", "three"]


def test_chained_follow_ups_reach_back_to_the_last_standalone_question_only() -> None:
    history = [
        "What is the capital of Australia?",
        "Why did Russia invite the Taliban to Moscow?",
        "and what about Pakistan?",
    ]
    query = rewrite_follow_up("and India?", history)
    assert "Pakistan" in query and "Taliban" in query
    assert "Australia" not in query
