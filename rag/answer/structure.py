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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.evidence import QuotedSentence, verified_quote
from rag.structure import AUTHOR, BYLINE, DATE, HEADING, HEADLINE, POSTED, PUBLICATION, PUBLISHED, TITLE
from rag.terms import content_terms, stem, words
from rag.types import Document, Passage, Quote, StructureSpan

# What publishes ("Which newspaper ...?"), and the verbs of publishing.
_PUBLISHERS = (
    r"newspaper|publication|outlet|magazine|journal|site|website|publisher|news\s+(site|outlet|agency)"
)
_PUBLISHED = r"(published|publishes|printed|prints|ran|runs|carried|carries)\b"
# Lower case only: "the Washington Post article" is about a newspaper, not a post.
_POST_WORDS = r"(?-i:comment(?:s|ed|er)?|post(?:s|ed|er)?|repl(?:y|ied|ies)|respon(?:se|ded)|forum)"
# (question pattern, the kinds that answer it, best first). The first pattern that matches wins.
_QUESTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(rf"\bwho\b.*\b{_POST_WORDS}|\b{_POST_WORDS}\b.*\bby whom\b|\bwho\b.*\bcommenter\b", re.I),
        (AUTHOR,),
    ),
    (
        re.compile(
            r"\bwho\b.*\b(wrote|write|writes|written|authored|penned|reported|byline)\b"
            r"|\b(authors?|writers?|reporters?|byline)\s+(of|for|behind)\b|\bwhose\s+(article|story|piece|report)\b"
            r"|\bwritten\s+by\s+whom\b|\bwho\s+(is|are|was|were)\s+the\s+(authors?|writers?|reporters?)\b",
            re.I,
        ),
        (BYLINE, AUTHOR),
    ),
    (
        re.compile(rf"\b(when|what\s+(date|day|time)|which\s+(date|day))\b.*\b{_POST_WORDS}", re.I),
        (POSTED, DATE),
    ),
    (
        re.compile(
            r"\b(when|what\s+(date|day|time)|which\s+(date|day))\b.*"
            r"\b(published|written|wrote|dated|released|appeared|issued|updated|printed)\b",
            re.I,
        ),
        (PUBLISHED, DATE, POSTED),
    ),
    (
        re.compile(
            rf"\b(which|what)\s+({_PUBLISHERS})\b"
            r"|\b(published|printed|run|ran|carried)\s+(in|by)\s+(which|what|whom)\b"
            rf"|\b({_PUBLISHERS}|organi[sz]ation|company)\s+(that|which)?\s*{_PUBLISHED}"
            rf"|\b(which|what)\s+(organi[sz]ation|company)\s+{_PUBLISHED}|\bwho\s+{_PUBLISHED}",
            re.I,
        ),
        (PUBLICATION,),
    ),
    (re.compile(r"\b(what|which)\b.*\b(title|headline)\b", re.I), (HEADLINE, TITLE)),
    (
        re.compile(
            r"\b(what|which|list)\b.*\b((sub)?headings|section\s+(titles|headings|names))\b"
            r"|\bwhat\s+are\s+the\s+(main\s+)?sections\s+of\b",
            re.I,
        ),
        (HEADING,),
    ),
)
# A structure kind every span of which answers ("what are the headings"), up to this many.
_LISTED = {HEADING: 12}
# "Who said that ...?": the asker wants whoever wrote the sentence that says it (a commenter).
_ATTRIBUTION = re.compile(
    r"^\s*who\s+(said|says|wrote|writes|argued|argues|claimed|claims|stated|states|suggested|suggests"
    r"|noted|notes|commented|insisted|insists|warned|warns|believes|thinks|thought)\s+(that\b|[\"“'‘:])",
    re.I,
)
# Words of such questions that say what is asked, not what the document is about.
_ROLE_WORDS = frozenset(
    stem(word)
    for word in """who whom whose when date day time wrote write writes written author authors
    authored writer writers penned reported reporter reporters byline article articles story piece
    report post posts posted poster comment comments commented commenter reply replied response
    published dated released appeared issued updated printed title headline document page blog
    forum what which newspaper paper publication outlet magazine journal site website news run ran
    carried publisher publishes prints runs carries organization organisation company agency heading
    headings section sections subheadings list""".split()
)
MIN_TOPIC_COVERAGE = 0.5  # share of the question's own terms the document must contain


@dataclass(frozen=True)
class StructureQuestion:
    """What a structure question asks for, and the terms that say which document it is about."""

    kinds: tuple[str, ...]
    topic: frozenset[str]  # stems


def asked_structure(question: str) -> StructureQuestion | None:
    """The structure kinds the question asks for (best first), or None for any other question."""
    if asks_attribution(question):  # about a sentence's author, not the document's
        return None
    for pattern, kinds in _QUESTIONS:
        if pattern.search(question):
            topic = frozenset(stem(term) for term in content_terms(question)) - _ROLE_WORDS
            return StructureQuestion(kinds, topic)
    return None


def asks_attribution(question: str) -> bool:
    """Whether the question asks who said or wrote something ("Who said that ...?")."""
    return bool(_ATTRIBUTION.match(question))


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
    question_stems = {stem(term) for term in content_terms(question)}
    # The documents the question is about, those holding more of its own terms first, then by rank.
    candidates: dict[str, tuple[float, int, Passage, Document]] = {}
    for passage in sorted(passages, key=lambda passage: passage.rank):
        if passage.document_id not in candidates:
            document = load_document(passage.document_id)
            about = _topic_share(document, asked.topic)
            if about >= MIN_TOPIC_COVERAGE:
                candidates[passage.document_id] = (-about, passage.rank, passage, document)
    for _, _, passage, document in sorted(candidates.values(), key=lambda entry: entry[:2]):
        for kind in asked.kinds:
            if kind in _LISTED:
                spans = [span for span in document.structure if span.kind == kind][: _LISTED[kind]]
            else:
                best = _best_span(document, kind, question_stems)
                spans = [] if best is None else [best]
            if spans:
                quotes = [verified_quote(document, span.start, span.end) for span in spans]
                return [QuotedSentence(quote, passage, quote.text) for quote in quotes]
    return []


def _topic_share(document: Document, topic: frozenset[str]) -> float:
    """The share of the question's own terms the document mentions (1.0 when it has none)."""
    if not topic:
        return 1.0
    document_stems = {stem(word) for word in words(document.title + " " + document.text)}
    return len(topic & document_stems) / len(topic)


def _best_span(document: Document, kind: str, question_stems: set[str]) -> StructureSpan | None:
    """The span of that kind whose section (up to the next span of the kind) best fits the question.

    A forum page has one author line per comment: "who posted the comment about X" means the
    author whose comment mentions X; ties go to the first.
    """
    spans = [span for span in document.structure if span.kind == kind]
    if len(spans) <= 1:
        return spans[0] if spans else None
    ends = [following.start for following in spans[1:]] + [len(document.text)]
    best, best_overlap = spans[0], -1
    for span, end in zip(spans, ends, strict=True):
        section = {stem(word) for word in words(document.text[span.start : end])}
        overlap = len(question_stems & section)
        if overlap > best_overlap:
            best, best_overlap = span, overlap
    return best
