"""rag/answer/refusal.py: every rule that decides "not found", as functions of the evidence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import rag
from rag.answer.asking import evidence_for
from rag.answer.lexical import PassageCoverage
from rag.answer.refusal import (
    EMPTY_INDEX_NOTICE,
    REFUSED_NOTICE,
    UNSUPPORTED_NOTICE,
    answering_sentences,
    generated_refusal_notice,
    refusal_notice,
    says_not_in_documents,
)
from rag.answer.scoring import ScoredSentence, score_sentences

TEXT = (
    "The AS-206 flight left Lisbon at noon and landed in Porto an hour later. "
    "The airline sold coffee and cake on board during the short trip north."
)


def _scored(base: rag.KnowledgeBase, question: str) -> tuple[list[ScoredSentence], rag.Settings]:
    evidence = evidence_for(question, base)
    return score_sentences(evidence), evidence.settings


def test_nothing_answers_below_the_threshold(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("flight.txt", TEXT)])
    evidence = evidence_for("When did the AS-206 flight leave Lisbon?", fake_base)
    scored = score_sentences(evidence)
    coverage = PassageCoverage(evidence.query, evidence.document, evidence.statistics)
    assert answering_sentences(scored, evidence, coverage)
    strict = replace(evidence, settings=evidence.settings.replace(refusal_threshold=scored[0].score + 0.01))
    assert answering_sentences(scored, strict, coverage) == []


def test_a_document_that_never_names_the_asked_identifier_is_no_evidence(
    fake_base: rag.KnowledgeBase,
) -> None:
    fake_base.add_texts([rag.TextItem("flight.txt", TEXT)])
    # Everything passes the score rules, so only the identifier rule can refuse.
    lenient = fake_base.settings.replace(refusal_threshold=0.0, refusal_sure_score=0.0)
    for question, answers in (("When did the AS-206 leave?", True), ("When did the AS-999 leave?", False)):
        evidence = replace(evidence_for(question, fake_base), settings=lenient)
        coverage = PassageCoverage(evidence.query, evidence.document, evidence.statistics)
        assert bool(answering_sentences(score_sentences(evidence), evidence, coverage)) is answers


def test_only_sentences_at_or_above_the_threshold_are_kept_best_first(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("flight.txt", TEXT)])
    evidence = evidence_for("When did the AS-206 flight leave Lisbon?", fake_base)
    passage = evidence.passages[0]
    quote = rag.Quote(passage.document_id, 0, 3, "The")
    vector = np.zeros(1, dtype=np.float32)
    scored = [ScoredSentence(quote, passage, score, vector, lexical=True) for score in (0.9, 0.5, 0.3)]
    lenient = replace(evidence, settings=evidence.settings.replace(refusal_threshold=0.45))
    coverage = PassageCoverage(evidence.query, evidence.document, evidence.statistics)
    kept = answering_sentences(scored, lenient, coverage)
    assert [item.score for item in kept] == [0.9, 0.5]


def test_a_refusal_over_an_empty_index_says_so(fake_base: rag.KnowledgeBase) -> None:
    fake_base.create()
    evidence = evidence_for("Anything at all?", fake_base)
    assert evidence.corpus_is_empty and refusal_notice(evidence) == EMPTY_INDEX_NOTICE
    answer = fake_base.ask("Anything at all?")
    assert not answer.answered and answer.notice == EMPTY_INDEX_NOTICE


def test_a_model_saying_it_found_nothing_is_told_apart_from_unsupported_claims() -> None:
    assert says_not_in_documents("The passages don’t contain that information.")
    assert says_not_in_documents("I cannot answer this from the documents.")
    assert not says_not_in_documents("The Taliban took control of Kabul.")
    assert generated_refusal_notice(["I cannot answer this from the documents."]) == REFUSED_NOTICE
    assert generated_refusal_notice([]) == REFUSED_NOTICE
    assert generated_refusal_notice(["Paris has nine bridges."]) == UNSUPPORTED_NOTICE
