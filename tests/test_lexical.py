from __future__ import annotations

from rag.answer.lexical import (
    TermStatistics,
    lexical_evidence,
    pooled_statistics,
    question_weights,
    weighted_coverage,
)


def _statistics(counts: dict[str, int], chunks: int = 100) -> TermStatistics:
    return TermStatistics(
        lambda: chunks, lambda terms: {term: counts[term] for term in terms if term in counts}
    )


def test_rare_terms_weigh_more_than_common_ones_and_question_words_not_at_all() -> None:
    statistics = _statistics({"punkt": 60, "verteid": 2})
    weights = question_weights("Wie viele Punkte verlor die Verteidigung der Panthers?", "de", statistics)
    assert weights["verteid"] > weights["punkt"]
    assert "wie" not in weights and "die" not in weights
    # A term the index lacks weighs like the rarest: a question about something absent finds little evidence.
    assert weights["panth"] >= weights["verteid"]


def test_coverage_is_the_share_of_question_weight_a_sentence_holds() -> None:
    weights = question_weights("黑豹队的防守丢了多少分？", "zh", _statistics({}, chunks=10))
    full = weighted_coverage(weights, "黑豹队的防守丢了多少分", "zh")
    part = weighted_coverage(weights, "黑豹队的防守只丢了308分。", "zh")
    none = weighted_coverage(weights, "华沙是波兰的首都。", "zh")
    assert full == 1.0 and 0.3 < part < 1.0 and none == 0.0


def test_evidence_counts_the_sentence_and_its_passage_half_each() -> None:
    weights = {"warschau": 1.0, "hauptstadt": 1.0}
    passage = "Warschau liegt an der Weichsel. Es ist die Hauptstadt Polens."
    evidence = lexical_evidence(weights, "Es ist die Hauptstadt Polens.", passage, "de")
    assert evidence == 0.5 * 0.5 + 0.5 * 1.0


def test_indexes_searched_together_weigh_terms_as_one_index_would() -> None:
    pooled = pooled_statistics([_statistics({"fluss": 3, "rhein": 1}, 40), _statistics({"fluss": 5}, 60)])
    assert pooled.chunks == 100
    assert pooled.document_counts(["fluss", "rhein", "meer"]) == {"fluss": 8, "rhein": 1}
    assert pooled.weights(["fluss", "rhein"]) == _statistics({"fluss": 8, "rhein": 1}).weights(
        ["fluss", "rhein"]
    )


def test_the_index_is_counted_only_when_weights_are_needed_and_then_once() -> None:
    counted: list[int] = []

    def count_chunks() -> int:
        counted.append(1)
        return 100

    statistics = TermStatistics(count_chunks, lambda terms: {})
    assert not counted
    statistics.weights(["fluss"])
    statistics.weights(["rhein"])
    assert counted == [1]
