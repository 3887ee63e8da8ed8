"""Evidence: the whole sentences of retrieved passages, each a verified verbatim quote."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.answer.sentences import sentences_around
from rag.types import Document, Passage, Quote


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
) -> list[tuple[Quote, Passage]]:
    """Each whole sentence the passages touch, once (with the first passage that holds it)."""
    found: dict[tuple[str, int, int], tuple[Quote, Passage]] = {}
    for passage in passages:
        document = load_document(passage.document_id)
        for span in sentences_around(document.text, passage.start, passage.end):
            key = (document.id, span.start, span.end)
            if key not in found and keep(span.text):
                found[key] = (verified_quote(document, span.start, span.end), passage)
    return list(found.values())
