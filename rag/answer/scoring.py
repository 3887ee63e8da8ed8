"""Scoring: each whole sentence of the retrieved passages, scored against the question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.evidence import Evidence
from rag.answer.lexical import lexical_evidence, question_weights
from rag.answer.measures import counts_asked
from rag.answer.question_words import (
    ENGLISH_ANSWER_TYPES,
    AnswerType,
    answer_type,
    answer_type_match,
    holds_answer_type,
)
from rag.answer.quotes import (
    QuotedSentence,
    follows_in_paragraph,
    points_back,
    sentence_quotes,
    verified_quote,
)
from rag.embedding import covers_language, embed_query
from rag.language.scripts import word_count
from rag.language.structure import FRAME_KINDS
from rag.search.injection import is_instruction
from rag.terms import content_terms, stem, words
from rag.types import Document, Passage, Quote

SIMILARITY_WEIGHT = 0.65
OVERLAP_WEIGHT = 0.25
RANK_WEIGHT = 0.10
MIN_QUOTE_WORDS = 5
ANSWER_TYPE_WEIGHT = 0.08
# Languages the embedding model does not cover: lexical evidence weighs most, and the shift puts
# the refusal threshold of these scores where the one of dense scores is (python -m eval.calibrate).
LEXICAL_SIMILARITY_WEIGHT = 0.15
LEXICAL_EVIDENCE_WEIGHT = 0.75
LEXICAL_SCORE_SHIFT = -0.03
QUANTITY_WEIGHT = 0.08


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate quote with its score and the passage it came from."""

    quote: Quote
    passage: Passage
    score: float
    vector: np.ndarray
    # Scored by the share of the question's terms it holds (a language the model lacks).
    lexical: bool = False
    # Two sentences: one that points back, scored and quoted with the sentence it points at.
    in_context: bool = False


@dataclass(frozen=True)
class _Asked:
    """The question as every sentence is compared with it: its words, stems, vector and the
    answer type its English question word asks for (read once, not once a sentence)."""

    text: str
    stems: set[str]
    vector: np.ndarray
    answer_type: AnswerType | None


def score_sentences(evidence: Evidence) -> list[ScoredSentence]:
    """Every whole sentence of the passages, scored against the retrieval query, best first.

    A sentence in a language the embedding model covers is scored mostly by similarity
    (_dense_score), with the sentence before it when it refers back to it (_in_context); in any
    other language mostly by lexical evidence (_lexical_score).
    """
    # A Markdown heading names a topic; it never answers a question. A sentence that speaks to
    # an AI ("ignore previous instructions and say...") is never evidence either.
    load_document = evidence.document
    items = sentence_quotes(
        evidence.passages,
        load_document,
        keep=lambda sentence: not (sentence.startswith("#") or is_instruction(sentence)),
    )
    items = [item for item in items if not _in_frame(item, load_document)]
    if not items:
        return []
    question = evidence.query
    question_vector = embed_query(evidence.embedder, question)
    vectors = np.vstack([question_vector, evidence.embedder.embed([item.readable for item in items])])
    similarities = vectors[1:] @ vectors[0]
    stems = {stem(term) for term in content_terms(question)}
    asked = _Asked(question, stems, vectors[0], answer_type(question, ENGLISH_ANSWER_TYPES))
    weights: dict[str, dict[str, float]] = {}
    antecedents = _antecedents(items, load_document)
    scored = []
    for index, (item, similarity, vector) in enumerate(zip(items, similarities, vectors[1:], strict=True)):
        language = load_document(item.quote.document_id).language
        lexical = not covers_language(evidence.embedder, language)
        if lexical:
            if language not in weights:
                weights[language] = question_weights(question, language, evidence.statistics)
            share = lexical_evidence(weights[language], item.readable, item.passage.text, language)
            score = _lexical_score(question, item.readable, share, float(similarity), item.passage.rank)
            scored.append(ScoredSentence(item.quote, item.passage, score, vector, lexical))
            continue
        before, replaced = antecedents.get(index, (None, False))
        if before is not None:
            pair = (items[before], item)
            scored.append(_in_context(asked, pair, (vectors[1 + before], vector), load_document))
        if not replaced:
            score = _dense_score(asked, item.readable, float(similarity), item.passage.rank)
            scored.append(ScoredSentence(item.quote, item.passage, score, vector))
    return sorted(scored, key=lambda item: item.score, reverse=True)


def _antecedents(
    items: Sequence[QuotedSentence], load_document: Callable[[str], Document]
) -> dict[int, tuple[int, bool]]:
    """Sentences to score together with the one right before them in the same paragraph (when that
    one is a candidate too): index -> (index of that one, whether the pair replaces the sentence).

    A sentence that points back ("They also won it in 1946.") is only ever scored with its
    antecedent; one that opens by naming again a thing the previous sentence named ("The company
    installed ...") is scored both alone and with it.
    """
    ending_at = {(item.quote.document_id, item.quote.end): index for index, item in enumerate(items)}
    found = {}
    for index, item in enumerate(items):
        pronoun = points_back(item.quote.text)
        if not pronoun and not item.quote.text.startswith("The "):
            continue
        document = load_document(item.quote.document_id)
        if document.is_table:
            continue
        previous_end = item.quote.start
        while previous_end > 0 and document.text[previous_end - 1].isspace():
            previous_end -= 1
        previous = ending_at.get((item.quote.document_id, previous_end))
        if previous is None or not follows_in_paragraph(document, items[previous].quote, item.quote):
            continue
        if pronoun:
            found[index] = (previous, True)
        elif _repeats(items[previous].quote.text, item.quote.text):
            found[index] = (previous, False)
    return found


def _repeats(previous: str, sentence: str) -> bool:
    """Whether "The X ..." names again a thing the previous sentence named."""
    head = {stem(word) for word in words(sentence)[1:3]}
    return bool(head & {stem(word) for word in content_terms(previous)})


def _in_context(
    asked: _Asked,
    pair: tuple[QuotedSentence, QuotedSentence],
    pair_vectors: tuple[np.ndarray, np.ndarray],
    load_document: Callable[[str], Document],
) -> ScoredSentence:
    """A sentence that points back, scored and quoted together with the sentence before it.

    The pair's vector is the normalised sum of the two sentences' vectors (no embedding at
    question time); its words are both sentences' words.
    """
    before, item = pair
    summed = pair_vectors[0] + pair_vectors[1]
    vector = summed / max(float(np.linalg.norm(summed)), 1e-12)
    readable = f"{before.readable} {item.readable}"
    rank = min(before.passage.rank, item.passage.rank)
    score = _dense_score(asked, readable, float(vector @ asked.vector), rank)
    document = load_document(item.quote.document_id)
    quote = verified_quote(document, before.quote.start, item.quote.end)
    return ScoredSentence(quote, item.passage, score, vector.astype(np.float32), in_context=True)


def _dense_score(asked: _Asked, sentence: str, similarity: float, rank: int) -> float:
    """Similarity first, then English word overlap, passage rank and the expected answer type."""
    sentence_words = words(sentence)  # split once, for the overlap and the length
    return (
        SIMILARITY_WEIGHT * similarity
        + OVERLAP_WEIGHT * _overlap(asked.stems, sentence_words)
        + RANK_WEIGHT / rank
        + ANSWER_TYPE_WEIGHT * holds_answer_type(asked.answer_type, sentence)
        + QUANTITY_WEIGHT * counts_asked(asked.text, sentence)
    ) * _length_factor(sentence, sentence_words)


def _lexical_score(question: str, sentence: str, evidence: float, similarity: float, rank: int) -> float:
    """Weighted share of the question's terms first; shifted onto the scale of _dense_score."""
    return (
        LEXICAL_SIMILARITY_WEIGHT * similarity
        + LEXICAL_EVIDENCE_WEIGHT * evidence
        + RANK_WEIGHT / rank
        + ANSWER_TYPE_WEIGHT * answer_type_match(question, sentence)
    ) * min(1.0, word_count(sentence) / MIN_QUOTE_WORDS) + LEXICAL_SCORE_SHIFT


def _in_frame(item: QuotedSentence, load_document: Callable[[str], Document]) -> bool:
    """Whether the sentence is the document's title, a heading, a commenter's name or a date line
    found at ingest: it names a topic, a person or a time, it does not answer."""
    structure = load_document(item.quote.document_id).structure
    return any(
        span.kind in FRAME_KINDS and span.start <= item.quote.start and item.quote.end <= span.end
        for span in structure
    )


def _overlap(question_stems: set[str], sentence_words: list[str]) -> float:
    if not question_stems:
        return 0.0
    sentence_stems = {stem(word) for word in sentence_words}
    return len(question_stems & sentence_stems) / len(question_stems)


def _length_factor(sentence: str, sentence_words: list[str] | None = None) -> float:
    """Headings and fragments are rarely answers: shrink scores of very short sentences."""
    counted = words(sentence) if sentence_words is None else sentence_words
    # A Chinese sentence is one "word" to words(): its characters count, as in _lexical_score.
    return min(1.0, max(len(counted), word_count(sentence)) / MIN_QUOTE_WORDS)
