from __future__ import annotations

import pytest

from rag.answer.question_words import answer_type_match


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
