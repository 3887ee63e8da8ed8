"""Lexical evidence: how much of a question's rarer terms a sentence holds, in any language.

Where the embedding model does not cover a document's language, its similarity scores carry
little, so sentences are scored mostly by this evidence instead. In every language, a passage
that covers too little of the question is no evidence for an unsure answer (PassageCoverage).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from rag.language.analysis import index_terms, query_terms
from rag.types import Document, Passage

# Chosen with the weights of extractive._lexical_score on xquad-multilingual-dev articles 00-05
# and 12-17 (eval/calibrate.py); 1.0 (the sentence alone) refused less precisely.
SENTENCE_SHARE = 0.5


class Quoted(Protocol):
    """Anything quoted from a retrieved passage (a scored sentence, a structure span)."""

    @property
    def passage(self) -> Passage: ...


DocumentCounts = Callable[[Sequence[str]], dict[str, int]]


@dataclass(frozen=True)
class TermStatistics:
    """How rare each full-text term is in the index: chunk count and per-term chunk counts.

    Both are read only when a sentence needs weights (a language the model lacks): counting a
    million chunks takes milliseconds that an English question need not spend.
    """

    count_chunks: Callable[[], int]
    document_counts: DocumentCounts

    @cached_property
    def chunks(self) -> int:
        """How many chunks the index holds, counted once."""
        return self.count_chunks()

    def weights(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each term.

        A term the index lacks weighs like one a single chunk holds: such terms are often
        bigrams across two words of a Chinese question, and in a small index they would
        otherwise outweigh everything a sentence does share with the question.
        """
        counts = self.document_counts(terms)
        total = max(self.chunks, 1)
        return {
            term: math.log(1.0 + (total - count + 0.5) / (count + 0.5))
            for term in terms
            for count in (max(counts.get(term, 0), 1),)
        }


NO_STATISTICS = TermStatistics(lambda: 0, lambda terms: {})


def pooled_statistics(parts: Sequence[TermStatistics]) -> TermStatistics:
    """The statistics of several indexes searched together, as if they were one."""

    def document_counts(terms: Sequence[str]) -> dict[str, int]:
        pooled: dict[str, int] = {}
        for part in parts:
            for term, count in part.document_counts(terms).items():
                pooled[term] = pooled.get(term, 0) + count
        return pooled

    return TermStatistics(lambda: sum(part.chunks for part in parts), document_counts)


def question_weights(question: str, language: str, statistics: TermStatistics) -> dict[str, float]:
    """The question's terms, stop words left out, as a document in this language is indexed, weighted."""
    return statistics.weights(query_terms(question, [language]))


def weighted_coverage(weights: dict[str, float], sentence: str, language: str) -> float:
    """Share of the question's term weight that the sentence holds (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = set(index_terms(sentence, language))
    return sum(weight for term, weight in weights.items() if term in present) / total


def lexical_evidence(weights: dict[str, float], sentence: str, passage: str, language: str) -> float:
    """Half the sentence's coverage of the question, half its passage's.

    An answer often stands next to the sentence that repeats the question's words; and a
    passage that holds most of them is the best sign the question is about these documents.
    """
    return SENTENCE_SHARE * weighted_coverage(weights, sentence, language) + (
        1 - SENTENCE_SHARE
    ) * weighted_coverage(weights, passage, language)


class PassageCoverage:
    """How much of the question's term weight a passage holds, in the passage's language.

    Rarer terms weigh more (the index's statistics), so a passage about the question's topic
    that lacks its specific words ("soldiers", "died") covers little of it. Each passage is
    analysed once per question.
    """

    def __init__(
        self, question: str, load_document: Callable[[str], Document], statistics: TermStatistics
    ) -> None:
        self.question = question
        self.load_document = load_document
        self.statistics = statistics
        self._weights: dict[str, dict[str, float]] = {}
        self._by_passage: dict[tuple[str, int], float] = {}

    def __call__(self, candidate: Quoted) -> float:
        """The share (0..1) of the question's weight in the candidate's passage; 1.0 for no terms."""
        passage = candidate.passage
        key = (passage.collection, passage.chunk_id)
        if key not in self._by_passage:
            language = self.load_document(passage.document_id).language
            if language not in self._weights:
                self._weights[language] = question_weights(self.question, language, self.statistics)
            weights = self._weights[language]
            self._by_passage[key] = weighted_coverage(weights, passage.text, language) if weights else 1.0
        return self._by_passage[key]
