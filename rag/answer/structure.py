"""Questions about a document's structure ("who wrote the article", "when was the comment
posted"), answered by quoting the byline, author line or dateline found at ingest.

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
from rag.structure import AUTHOR, BYLINE, DATE, HEADLINE, POSTED, PUBLICATION, PUBLISHED, TITLE
from rag.terms import content_terms, stem, words
from rag.types import Document, Passage, StructureSpan

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
            r"\b(which|what)\s+(newspaper|paper|publication|outlet|magazine|journal|site|website|news\s+\w+)\b"
            r"|\b(published|printed|run|ran|carried)\s+(in|by)\s+(which|what|whom)\b",
            re.I,
        ),
        (PUBLICATION,),
    ),
    (re.compile(r"\b(what|which)\b.*\b(title|headline)\b", re.I), (HEADLINE, TITLE)),
)
# Words of such questions that say what is asked, not what the document is about.
_ROLE_WORDS = frozenset(
    stem(word)
    for word in """who whom whose when date day time wrote write writes written author authors
    authored writer writers penned reported reporter reporters byline article articles story piece
    report post posts posted poster comment comments commented commenter reply replied response
    published dated released appeared issued updated printed title headline document page blog
    forum what which newspaper paper publication outlet magazine journal site website news run ran
    carried""".split()
)
MIN_TOPIC_COVERAGE = 0.5  # share of the question's own terms the document must contain


@dataclass(frozen=True)
class StructureQuestion:
    """What a structure question asks for, and the terms that say which document it is about."""

    kinds: tuple[str, ...]
    topic: frozenset[str]  # stems


def asked_structure(question: str) -> StructureQuestion | None:
    """The structure kinds the question asks for (best first), or None for any other question."""
    for pattern, kinds in _QUESTIONS:
        if pattern.search(question):
            topic = frozenset(stem(term) for term in content_terms(question)) - _ROLE_WORDS
            return StructureQuestion(kinds, topic)
    return None


def structure_quote(
    question: str, passages: Sequence[Passage], load_document: Callable[[str], Document]
) -> QuotedSentence | None:
    """The byline, author line or date that answers a structure question, as a verified quote."""
    asked = asked_structure(question)
    if asked is None:
        return None
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
            span = _best_span(document, kind, question_stems)
            if span is not None:
                quote = verified_quote(document, span.start, span.end)
                return QuotedSentence(quote, passage, quote.text)
    return None


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
