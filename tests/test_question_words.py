from __future__ import annotations

import pytest

from rag.answer.measures import counts_asked
from rag.answer.question_words import ENGLISH_ANSWER_TYPES, answer_type_match, is_number


@pytest.mark.parametrize(
    ("question", "holds", "lacks"),
    [
        (
            "Wie viele Punkte gab die Verteidigung ab?",
            "Sie gab nur 308 Punkte ab.",
            "Sie gab wenige Punkte ab.",
        ),
        ("¿Cuántos puntos cedieron?", "Cedieron solo 308 puntos.", "Cedieron pocos puntos."),
        ("黑豹队的防守丢了多少分？", "黑豹队的防守只丢了308分。", "黑豹队的防守很强。"),
        ("كم نقطة تخلى عنها الدفاع؟", "تخلى الدفاع عن 308 نقاط.", "كان الدفاع قويا."),
        ("पैंथर्स डिफ़ेंस ने कितने अंक दिए?", "डिफ़ेंस ने 308 अंक दिए।", "डिफ़ेंस मजबूत था।"),
        ("В каком году родился Тесла?", "Тесла родился в 1856 году.", "Тесла родился в Смиляне."),
        ("¿Quién fundó la empresa?", "La fundó Thomas Edison.", "La empresa fue fundada hace años."),
    ],
)
def test_sentence_with_the_kind_of_answer_asked_for_matches(question: str, holds: str, lacks: str) -> None:
    assert answer_type_match(question, holds) == 1.0
    assert answer_type_match(question, lacks) == 0.0


def test_a_number_the_question_already_gives_is_not_an_answer() -> None:
    assert answer_type_match("Wie viele Spiele gewann das Team 2015?", "Im Jahr 2015 gewann es.") == 0.0


@pytest.mark.parametrize(
    ("word", "is_one"),
    [
        ("17", True),
        ("five", True),
        ("Twenty", True),
        ("fourteen", True),
        ("dozen", True),
        ("twice", True),
        ("party", False),
        ("city", False),
        ("canteen", False),
        ("often", False),
    ],
)
def test_one_list_of_number_words_reads_figures_and_english_words(word: str, is_one: bool) -> None:
    assert is_number(word) is is_one


def test_a_count_is_a_number_before_the_counted_word_not_a_word_ending_like_one() -> None:
    question = "How many members did the delegation have?"
    assert counts_asked(question, "The delegation had twenty members.")
    assert not counts_asked(question, "The delegation met the party members.")


def test_an_answer_in_number_words_answers_how_many_as_figures_do() -> None:
    question = "How many ships did the navy send?"
    assert answer_type_match(question, "The navy sent twelve ships.", ENGLISH_ANSWER_TYPES) == 1.0
    assert answer_type_match(question, "The navy sent 12 ships.", ENGLISH_ANSWER_TYPES) == 1.0
    assert answer_type_match(question, "The navy sent its ships.", ENGLISH_ANSWER_TYPES) == 0.0
