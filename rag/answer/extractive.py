"""Extractive answers: the best verbatim sentences of the retrieved passages, cited."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from rag.answer.evidence import Evidence
from rag.answer.lexical import PassageCoverage
from rag.answer.quotes import with_antecedent
from rag.answer.refusal import NOT_FOUND, answering_sentences, lowest_answering_score, refusal_notice
from rag.answer.scoring import ScoredSentence, score_sentences
from rag.answer.structure import speaker, structure_quotes
from rag.answer.structure_questions import asks_attribution
from rag.terms import content_terms, stem, words
from rag.types import Answer, Citation, Document, Quote

REDUNDANT_SIMILARITY = 0.85
QUOTE_SCORE_MARGIN = 0.12
_NO_VECTOR = np.zeros(0, dtype=np.float32)  # a structure span's: it is never compared


def select_quotes(
    question: str, answering: Sequence[ScoredSentence], max_quotes: int, margin: float = QUOTE_SCORE_MARGIN
) -> list[ScoredSentence]:
    """The best sentence (with the next one when it only announces the answer) and up to
    max_quotes - 1 runners-up within margin that say something new.

    `answering` holds only sentences refusal lets answer (refusal.answering_sentences), best first.
    """
    if not answering:
        return []
    floor = answering[0].score - margin
    chosen = [_continued(question, answering[0], answering, floor)]
    for item in answering[1:]:
        if len(chosen) >= max_quotes or item.score < floor:
            break
        if all(
            float(item.vector @ other.vector) < REDUNDANT_SIMILARITY
            and not _overlaps(item.quote, other.quote)
            for other in chosen
        ):
            chosen.append(item)
    return chosen


def _continued(
    question: str, best: ScoredSentence, answering: Sequence[ScoredSentence], floor: float
) -> ScoredSentence:
    """The best sentence together with the next one when the best ends on what the question asks
    about, the next points back at it and the two score within the margin: the next sentence
    says what the best one only announces ("... has a more pragmatic goal." "It aims to build
    buffer zones ...")."""
    if best.in_context or not _ends_on(best.quote.text, question):
        return best
    for item in answering:
        if item.score < floor:
            break
        if item.in_context and (item.quote.document_id, item.quote.start) == (
            best.quote.document_id,
            best.quote.start,
        ):
            return item
    return best


def _ends_on(sentence: str, question: str) -> bool:
    """Whether the last content word of the sentence is one of the question's (by stem)."""
    terms = content_terms(" ".join(words(sentence)[-3:]))
    return bool(terms) and stem(terms[-1]) in {stem(term) for term in content_terms(question)}


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


def extractive_answers(evidence: Evidence) -> Iterator[Answer]:
    """The answer growing one quote at a time, or one refusal that still lists the passages."""
    load_document = evidence.document
    scored = score_sentences(evidence)
    coverage = PassageCoverage(evidence.query, load_document, evidence.statistics)
    found = structure_quotes(evidence.query, evidence.passages, load_document)
    if found:
        # The byline, date line or headings are the whole answer; their score is what the best
        # sentence had, at least the threshold. Their vectors are never compared.
        best = scored[0] if scored else None
        score = max(best.score if best else 0.0, lowest_answering_score(evidence, best))
        chosen = [ScoredSentence(item.quote, item.passage, score, _NO_VECTOR) for item in found]
    else:
        answering = answering_sentences(scored, evidence, coverage)
        settings = evidence.settings
        chosen = select_quotes(evidence.query, answering, settings.max_quotes, settings.quote_margin)
        chosen = _with_antecedents(chosen, load_document)
        if chosen and asks_attribution(evidence.query):
            chosen = _with_speaker(chosen[0], load_document)
    question, passages, query = evidence.question, evidence.ranked, evidence.query
    if not chosen:
        timings = evidence.timings()
        yield Answer(
            question, NOT_FOUND, False, (), passages, query, timings, notice=refusal_notice(evidence)
        )
        return
    for count in range(1, len(chosen) + 1):
        text, citations = compose(chosen[:count], load_document, coverage)
        timings = evidence.timings()
        yield Answer(question, text, True, citations, passages, query, timings, notice=evidence.notice)


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
