"""Lexical evidence: how much of a question's rarer terms a sentence holds, in any language.

Where the embedding model does not cover a document's language, its similarity scores carry
little, so sentences are scored mostly by this evidence instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rag.language.analysis import index_terms, query_terms

# Chosen with the weights of extractive._lexical_score on xquad-multilingual-dev articles 00-05
# and 12-17 (eval/calibrate.py); 1.0 (the sentence alone) refused less precisely.
SENTENCE_SHARE = 0.5

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
