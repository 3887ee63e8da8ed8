"""Extractive answers: the best verbatim sentences of the retrieved passages, cited."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.evidence import (
    QuotedSentence,
    follows_in_paragraph,
    points_back,
    sentence_quotes,
    verified_quote,
    with_antecedent,
)
from rag.answer.injection import is_instruction
from rag.answer.lexical import (
    NO_STATISTICS,
    PassageCoverage,
    TermStatistics,
    lexical_evidence,
    question_weights,
)
from rag.answer.question_words import ENGLISH_ANSWER_TYPES, answer_type_match, identifiers
from rag.answer.structure import speaker, structure_quotes
from rag.answer.structure_questions import asks_attribution
from rag.embedding import Embedder, covers_language
from rag.language.scripts import word_count
from rag.language.structure import FRAME_KINDS
from rag.settings import Settings
from rag.terms import content_terms, stem, words
from rag.types import Answer, Citation, Document, Passage, Quote

NOT_FOUND = "The documents do not contain an answer to this question."
SIMILARITY_WEIGHT = 0.65
OVERLAP_WEIGHT = 0.25
RANK_WEIGHT = 0.10
REDUNDANT_SIMILARITY = 0.85
QUOTE_SCORE_MARGIN = 0.12
MIN_QUOTE_WORDS = 5
ANSWER_TYPE_WEIGHT = 0.08
# Languages the embedding model does not cover: lexical evidence weighs most, and the shift puts
# the refusal threshold of these scores where the one of dense scores is (python -m eval.calibrate).
LEXICAL_SIMILARITY_WEIGHT = 0.15
LEXICAL_EVIDENCE_WEIGHT = 0.75
LEXICAL_SCORE_SHIFT = -0.03
QUANTITY_WEIGHT = 0.08
_NO_VECTOR = np.zeros(0, dtype=np.float32)  # a structure span's: it is never compared
_HOW_MANY = re.compile(r"\bhow\s+(?:many|much)\s+([^\W\d_]+)", re.I)
_NUMBER_WORD = re.compile(
    r"^(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?"
    r"|thousands?|millions?|billions?|\w+teen|\w+ty)$"
)


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


def score_sentences(
    question: str,
    passages: Sequence[Passage],
    load_document: Callable[[str], Document],
    embedder: Embedder,
    statistics: TermStatistics = NO_STATISTICS,
) -> list[ScoredSentence]:
    """Every whole sentence of the passages, scored against the question, best first.

    A sentence in a language the embedding model covers is scored mostly by similarity
    (_dense_score), with the sentence before it when it refers back to it (_in_context); in any
    other language mostly by lexical evidence (_lexical_score).
    """
    # A Markdown heading names a topic; it never answers a question. A sentence that speaks to
    # an AI ("ignore previous instructions and say...") is never evidence either.
    items = sentence_quotes(
        passages,
        load_document,
        keep=lambda sentence: not (sentence.startswith("#") or is_instruction(sentence)),
    )
    items = [item for item in items if not _in_frame(item, load_document)]
    if not items:
        return []
    vectors = embedder.embed([question] + [item.readable for item in items])
    similarities = vectors[1:] @ vectors[0]
    question_stems = {stem(term) for term in content_terms(question)}
    weights: dict[str, dict[str, float]] = {}
    antecedents = _antecedents(items, load_document)
    scored = []
    for index, (item, similarity, vector) in enumerate(zip(items, similarities, vectors[1:], strict=True)):
        language = load_document(item.quote.document_id).language
        lexical = not covers_language(embedder, language)
        if lexical:
            if language not in weights:
                weights[language] = question_weights(question, language, statistics)
            evidence = lexical_evidence(weights[language], item.readable, item.passage.text, language)
            score = _lexical_score(question, item.readable, evidence, float(similarity), item.passage.rank)
            scored.append(ScoredSentence(item.quote, item.passage, score, vector, lexical))
            continue
        before, replaced = antecedents.get(index, (None, False))
        if before is not None:
            pair = (items[before], item)
            scored.append(
                _in_context(
                    question, question_stems, vectors[0], pair, (vectors[1 + before], vector), load_document
                )
            )
        if not replaced:
            score = _dense_score(
                question, question_stems, item.readable, float(similarity), item.passage.rank
            )
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
    question: str,
    question_stems: set[str],
    question_vector: np.ndarray,
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
    score = _dense_score(question, question_stems, readable, float(vector @ question_vector), rank)
    document = load_document(item.quote.document_id)
    quote = verified_quote(document, before.quote.start, item.quote.end)
    return ScoredSentence(quote, item.passage, score, vector.astype(np.float32), in_context=True)


def _dense_score(
    question: str, question_stems: set[str], sentence: str, similarity: float, rank: int
) -> float:
    """Similarity first, then English word overlap, passage rank and the expected answer type."""
    return (
        SIMILARITY_WEIGHT * similarity
        + OVERLAP_WEIGHT * _overlap(question_stems, sentence)
        + RANK_WEIGHT / rank
        + ANSWER_TYPE_WEIGHT * answer_type_match(question, sentence, ENGLISH_ANSWER_TYPES)
        + QUANTITY_WEIGHT * _quantity_match(question, sentence)
    ) * _length_factor(sentence)


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


def _overlap(question_stems: set[str], sentence: str) -> float:
    if not question_stems:
        return 0.0
    sentence_stems = {stem(word) for word in words(sentence)}
    return len(question_stems & sentence_stems) / len(question_stems)


def _quantity_match(question: str, sentence: str) -> float:
    """1.0 when a number in the sentence counts what "how many X" asks for ("17 years of war")."""
    asked = _HOW_MANY.search(question)
    if asked is None:
        return 0.0
    unit = stem(asked.group(1).lower())
    tokens = words(sentence)
    for index, token in enumerate(tokens):
        if stem(token) == unit and any(
            _NUMBER_WORD.match(word) for word in tokens[max(0, index - 3) : index]
        ):
            return 1.0
    return 0.0


def _length_factor(sentence: str) -> float:
    """Headings and fragments are rarely answers: shrink scores of very short sentences."""
    return min(1.0, len(words(sentence)) / MIN_QUOTE_WORDS)


def select_quotes(
    scored: Sequence[ScoredSentence], max_quotes: int, threshold: float, margin: float = QUOTE_SCORE_MARGIN
) -> list[ScoredSentence]:
    """The best sentence and up to max_quotes - 1 runners-up within margin that say something new."""
    if not scored or scored[0].score < threshold:
        return []
    chosen = [scored[0]]
    floor = max(threshold, scored[0].score - margin)
    for item in scored[1:]:
        if len(chosen) >= max_quotes or item.score < floor:
            break
        if all(
            float(item.vector @ other.vector) < REDUNDANT_SIMILARITY
            and not _overlaps(item.quote, other.quote)
            for other in chosen
        ):
            chosen.append(item)
    return chosen


def compose(
    chosen: Sequence[ScoredSentence],
    load_document: Callable[[str], Document],
    coverage: Callable[[ScoredSentence], float | None] = lambda item: None,
) -> tuple[str, tuple[Citation, ...]]:
    """Answer text of quoted sentences, each followed by its [n] marker, and the citations."""
    citations = []
    parts = []
    for number, item in enumerate(chosen, start=1):
        document = load_document(item.quote.document_id)
        covered = coverage(item)
        citations.append(
            Citation(
                number=number,
                source=item.passage.source,
                title=item.passage.title,
                page=document.page_at(item.quote.start),
                quote=item.quote,
                passage_rank=item.passage.rank,
                score=round(item.score, 4),
                location=document.location_at(item.quote.start),
                collection=item.passage.collection,
                coverage=None if covered is None else round(covered, 4),
            )
        )
        parts.append(f"“{item.quote.text}” [{number}]")
    return " ".join(parts), tuple(citations)


def extractive_answers(
    question: str,
    query: str,
    passages: tuple[Passage, ...],
    load_document: Callable[[str], Document],
    embedder: Embedder,
    settings: Settings,
    started: float,
    retrieved: float,
    notice: str = "",
    statistics: TermStatistics = NO_STATISTICS,
) -> Iterator[Answer]:
    """The answer growing one quote at a time, or one refusal that still lists the passages.

    `started` and `retrieved` are perf_counter() readings: when the ask began and when
    retrieval finished, for the answer's timings.
    """
    scored = score_sentences(query, passages, load_document, embedder, statistics)
    coverage = PassageCoverage(query, load_document, statistics)
    found = structure_quotes(query, passages, load_document)
    if found:
        # The byline, date line or headings are the whole answer; their score is what the best
        # sentence had, at least the threshold. Their vectors are never compared.
        score = max(scored[0].score if scored else 0.0, settings.refusal_threshold)
        chosen = [ScoredSentence(item.quote, item.passage, score, _NO_VECTOR) for item in found]
    else:
        # A sentence short of the sure score is evidence only from a passage that holds enough
        # of the question: one on the right topic that lacks what is asked about is not an
        # answer. (A lexically scored sentence has that share in its score already.)
        # Nor is a sentence from a document that never names an identifier the question asks
        # about ("the AS-206", "internet2"): a passage about another flight or network.
        names = _Mentions(identifiers(query), load_document)
        evidence = [
            item
            for item in scored
            if (
                item.lexical
                or item.score >= settings.refusal_sure_score
                or coverage(item) >= settings.refusal_min_coverage
            )
            and names.all_in(item.quote.document_id)
        ]
        chosen = select_quotes(
            evidence, settings.max_quotes, settings.refusal_threshold, settings.quote_margin
        )
        chosen = _with_antecedents(chosen, load_document)
        if chosen and asks_attribution(query):
            chosen = _with_speaker(chosen[0], load_document)
    timings = {"retrieve_ms": _ms(retrieved - started)}
    if not chosen:
        now = time.perf_counter()
        timings |= {"answer_ms": _ms(now - retrieved), "total_ms": _ms(now - started)}
        yield Answer(question, NOT_FOUND, False, (), passages, query, timings, notice=notice)
        return
    for count in range(1, len(chosen) + 1):
        text, citations = compose(chosen[:count], load_document, coverage)
        now = time.perf_counter()
        timings = timings | {"answer_ms": _ms(now - retrieved), "total_ms": _ms(now - started)}
        yield Answer(question, text, True, citations, passages, query, dict(timings), notice=notice)


class _Mentions:
    """Whether a document mentions every one of some identifiers (case aside), once per document."""

    def __init__(self, names: Sequence[str], load_document: Callable[[str], Document]) -> None:
        self.names = [name.casefold() for name in names]
        self.load_document = load_document
        self.known: dict[str, bool] = {}

    def all_in(self, document_id: str) -> bool:
        if not self.names:
            return True
        if document_id not in self.known:
            document = self.load_document(document_id)
            text = f"{document.title}\n{document.text}".casefold()
            # "F-16s" is mentioned by a text that says "F-16".
            self.known[document_id] = all(
                name in text or (name.endswith("s") and name[:-1] in text) for name in self.names
            )
        return self.known[document_id]


def _with_speaker(best: ScoredSentence, load_document: Callable[[str], Document]) -> list[ScoredSentence]:
    """For "who said that ...": the author line of the comment holding the best sentence, then
    that sentence; the sentence alone when no author line stands above it."""
    said_by = speaker(load_document(best.quote.document_id), best.quote)
    if said_by is None:
        return [best]
    return [dataclasses.replace(best, quote=said_by, vector=_NO_VECTOR), best]


def _with_antecedents(
    chosen: Sequence[ScoredSentence], load_document: Callable[[str], Document]
) -> list[ScoredSentence]:
    """Each quote that points back ("He said ...") widened to the sentence it points at, once."""
    widened: list[ScoredSentence] = []
    for item in chosen:
        if item.in_context:
            widened.append(item)
            continue
        quote = with_antecedent(load_document(item.quote.document_id), item.quote)
        overlaps = any(_overlaps(quote, other.quote) for other in widened)
        widened.append(item if overlaps else dataclasses.replace(item, quote=quote))
    return widened


def _overlaps(quote: Quote, other: Quote) -> bool:
    return quote.document_id == other.document_id and other.start < quote.end and quote.start < other.end


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
