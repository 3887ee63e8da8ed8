"""Quotes: the whole sentences of retrieved passages, each a verified verbatim quote."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.language.sentences import sentences_around
from rag.types import Document, Passage, Quote, TextSpan

# A table row up to this long is quoted whole; a longer one (split over chunks) by the passage's piece.
MAX_ROW_QUOTE = 2_000


@dataclass(frozen=True)
class QuotedSentence:
    """A whole sentence (a row, for a table) of a retrieved passage, as a verified quote."""

    quote: Quote
    passage: Passage
    readable: str  # what it says on its own, to score it by: a .csv row with its headers, else the quote


def verified_quote(document: Document, start: int, end: int) -> Quote:
    """A quote of document.text[start:end]; raises if the invariant cannot hold."""
    text = document.text[start:end]
    if not text or start < 0 or end > len(document.text):
        raise ValueError(f"span {start}:{end} is outside document {document.id}")
    return Quote(document.id, start, end, text)


def sentence_quotes(
    passages: Sequence[Passage],
    load_document: Callable[[str], Document],
    keep: Callable[[str], bool] = lambda sentence: True,
) -> list[QuotedSentence]:
    """Each whole sentence the passages touch, once (with the first passage that holds it).

    In a table document (.csv, .tsv) the sentences are the rows: a quote is a whole record.
    """
    found: dict[tuple[str, int, int], QuotedSentence] = {}
    for passage in passages:
        document = load_document(passage.document_id)
        if document.is_table:
            # A row longer than a chunk is quoted by the passage's piece of it, like long text.
            spans = [
                row if len(row.text) <= MAX_ROW_QUOTE else _clipped(document, row, passage)
                for row in document.row_spans(passage.start, passage.end)
            ]
        else:
            spans = sentences_around(document.text, passage.start, passage.end)
        for span in spans:
            key = (document.id, span.start, span.end)
            if key not in found and keep(span.text):
                quote = verified_quote(document, span.start, span.end)
                found[key] = QuotedSentence(quote, passage, document.readable(span.start, span.end))
    return list(found.values())


def _clipped(document: Document, row: TextSpan, passage: Passage) -> TextSpan:
    start, end = max(row.start, passage.start), min(row.end, passage.end)
    return TextSpan(start, end, document.text[start:end])


# A sentence points back at the one before it when it opens with a pronoun ("He said ..."), or
# with a short phrase that holds or precedes one ("Behind them, ...", "As such, it made ...").
_PRONOUN = r"(?:he|she|it|they|them|this|these|those|his|her|its|their)"
_POINTS_BACK = re.compile(
    r"^(?:He|She|It|They|This|These|That|Those|His|Her|Its|Their|Such|There|Here)\b"
    rf"|^(?:After|Before|Behind|Besides|Despite|Like|Unlike|When|While|Although|Because|Since)\s+{_PRONOUN}\b"
    rf"|^[^,;:.]{{1,30}},\s+{_PRONOUN}\b"
)
MAX_WITH_ANTECEDENT = 600  # characters: two sentences, not a paragraph


def points_back(sentence: str) -> bool:
    """Whether the sentence opens by referring to the one before it."""
    return bool(_POINTS_BACK.match(sentence))


def _quotable_with(document: Document, previous_start: int, previous_end: int, quote: Quote) -> bool:
    """Whether the text from previous_start to the end of quote stands in one paragraph and is
    short enough to be one quote."""
    gap = document.text[previous_end : quote.start]
    return "\n\n" not in gap.replace(" ", "") and quote.end - previous_start <= MAX_WITH_ANTECEDENT


def follows_in_paragraph(document: Document, previous: Quote, quote: Quote) -> bool:
    """Whether quote comes right after previous (nothing but spaces and one line break between)
    in one paragraph, the two short enough to be quoted together."""
    return (
        previous.end <= quote.start
        and not document.text[previous.end : quote.start].strip()
        and _quotable_with(document, previous.start, previous.end, quote)
    )


def with_antecedent(document: Document, quote: Quote) -> Quote:
    """The quote widened to the sentence before it when it opens by pointing back at it.

    Both sentences must stand in one paragraph; the widened quote is still one verbatim span.
    """
    if not points_back(quote.text) or quote.start == 0:
        return quote
    before = [
        span
        for span in sentences_around(document.text, max(0, quote.start - MAX_WITH_ANTECEDENT), quote.start)
        if span.end <= quote.start
    ]
    if not before:
        return quote
    previous = before[-1]
    if not _quotable_with(document, previous.start, previous.end, quote):
        return quote
    return verified_quote(document, previous.start, quote.end)
