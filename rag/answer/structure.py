"""Questions about a document's structure ("who wrote the article", "when was the comment
posted", "which newspaper ran it", "what are its headings"), answered by quoting the byline,
author line, dateline, publication, headline or headings found at ingest; and "who said
that ...", answered by the author line of the comment that says it.

A sentence search cannot answer these: the headline is closer in meaning to "who wrote the
article about X" than the byline under it, and a commenter's name line has no words of the
question at all. So the question's kind is recognised first, and the span of that kind is
taken from the best-ranked document that is about the rest of the question.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from rag.answer.quotes import QuotedSentence, verified_quote
from rag.answer.structure_questions import asked_structure
from rag.language.analysis import index_terms, query_terms
from rag.language.detection import likeliest_language
from rag.language.scripts import word_count
from rag.language.structure import AUTHOR, HEADING
from rag.types import Document, Passage, Quote, StructureSpan

# A structure kind every span of which answers ("what are the headings"), up to this many.
_LISTED = {HEADING: 12}
MIN_TOPIC_COVERAGE = 0.5  # share of the question's own terms the document must contain
MIN_SECTION_WORDS = 25  # a heading over fewer words, after the last longer section, frames the page


def speaker(document: Document, quote: Quote) -> Quote | None:
    """The author line of the comment or post the quote stands in, as a quote, or None.

    Only an author line found at ingest counts (a comment's name line above its timestamp):
    a byline is not taken as the speaker, since articles quote other people.
    """
    authors = [span for span in document.structure if span.kind == AUTHOR]
    before = [span for span in authors if span.end <= quote.start]
    if not before:
        return None
    return verified_quote(document, before[-1].start, before[-1].end)


def structure_quotes(
    question: str, passages: Sequence[Passage], load_document: Callable[[str], Document]
) -> list[QuotedSentence]:
    """The byline, author line, date, publication, headline or headings that answer a structure
    question, as verified quotes; [] for any other question or when no document has the span."""
    asked = asked_structure(question)
    if asked is None:
        return []
    # The documents the question is about, those holding more of its own terms first, then by rank.
    candidates: dict[str, tuple[float, int, Passage, Document]] = {}
    for passage in sorted(passages, key=lambda passage: passage.rank):
        if passage.document_id not in candidates:
            document = load_document(passage.document_id)
            about = _topic_share(document, asked.topic_terms(document.language))
            if about >= MIN_TOPIC_COVERAGE:
                candidates[passage.document_id] = (-about, passage.rank, passage, document)
    # Only the documents most about it: when the one the question names lacks the span (no date
    # on a page), a date from another document that shares fewer of its words is no answer.
    most = min((entry[0] for entry in candidates.values()), default=0.0)
    chosen = [entry for entry in candidates.values() if entry[0] == most]
    # Among those, the documents in the question's language first ("谁发表了这条评论？" names no
    # topic: it means a Chinese page's comment), then the best ranked.
    language = likeliest_language(question, sorted({entry[3].language for entry in chosen}))
    for _, _, passage, document in sorted(
        chosen, key=lambda entry: (entry[3].language != language, entry[1])
    ):
        question_terms = set(query_terms(question, [document.language]))
        for kind in asked.kinds:
            if kind in _LISTED:
                spans = _without_trailing_chrome(document, [s for s in document.structure if s.kind == kind])
                spans = spans[: _LISTED[kind]]
            else:
                best = _best_span(document, kind, question_terms)
                spans = [] if best is None else [best]
            if spans:
                quotes = [verified_quote(document, span.start, span.end) for span in spans]
                return [QuotedSentence(quote, passage, quote.text) for quote in quotes]
    return []


def _without_trailing_chrome(document: Document, spans: list[StructureSpan]) -> list[StructureSpan]:
    """The headings up to the last one with a section of MIN_SECTION_WORDS words or more: the short
    ones after it ("Article Search", "Stratfor Worldview" under a news article) are the page's frame."""
    sizes = [word_count(document.text[span.end : end]) for span, end in _sections(document, spans)]
    long = [index for index, size in enumerate(sizes) if size >= MIN_SECTION_WORDS]
    return spans[: long[-1] + 1] if long else spans


def _topic_share(document: Document, topic: frozenset[str]) -> float:
    """The share of the question's own terms the document mentions (1.0 when it has none)."""
    if not topic:
        return 1.0
    return len(topic & _terms(document.title + " " + document.text, document.language)) / len(topic)


def _best_span(document: Document, kind: str, question_terms: set[str]) -> StructureSpan | None:
    """The span of that kind whose section (up to the next span of the kind) best fits the question.

    A forum page has one author line per comment: "who posted the comment about X" means the
    author whose comment mentions X; ties go to the first.
    """
    spans = [span for span in document.structure if span.kind == kind]
    if len(spans) <= 1:
        return spans[0] if spans else None
    best, best_overlap = spans[0], -1
    for span, end in _sections(document, spans):
        overlap = len(question_terms & _terms(document.text[span.start : end], document.language))
        if overlap > best_overlap:
            best, best_overlap = span, overlap
    return best


def _sections(document: Document, spans: list[StructureSpan]) -> list[tuple[StructureSpan, int]]:
    """Each span with where its section ends: at the next span, the last at the end of the text."""
    ends = [following.start for following in spans[1:]] + [len(document.text)]
    return list(zip(spans, ends, strict=True))


@lru_cache(maxsize=16)
def _terms(text: str, language: str) -> frozenset[str]:
    """The distinct index terms of a text; kept for the last texts asked about, as analysing a
    book-sized document takes a fifth of a second and every structure question checks it."""
    return frozenset(index_terms(text, language))
