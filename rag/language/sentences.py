"""Split text into sentences that keep their character offsets; what answers quote and score."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from rag.language.scripts import wide_characters
from rag.language.vocabulary import all_words
from rag.types import Document, TextSpan

_ABBREVIATIONS = all_words(lambda pack: pack.abbreviations)
_CLOSERS = "\"'”’»)]」』）〕】"
_OPENERS = "\"'“‘„«¿¡([「『（"
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by spaces and what may start
# a sentence (_starts_sentence); at 。！？ of Chinese and Japanese whatever follows; at the
# Arabic question mark, the Devanagari danda and other scripts' full stops followed by space.
# A blank line always ends one. A single line break is decided by _is_line_boundary, because
# wrapped prose must not be cut in the middle of a sentence.
_BOUNDARY = re.compile(
    rf"(?P<spaced>[.!?…]+[{re.escape(_CLOSERS)}]*[^\S\n]+)(?=\S)"
    rf"|[。！？｡]+[{re.escape(_CLOSERS)}]*\s*"
    rf"|[؟۔।॥።။]+[{re.escape(_CLOSERS)}]*(?:[^\S\n]+|(?=\n)|$)"
    r"|\n[ \t]*\n\s*|\n[ \t]*"
)
_BLOCK_START = re.compile(r"[ \t]*(?:[#>|*+-]|\d+[.)]\s)")
HEADING_MAX_CHARS = 60
MIN_SENTENCE_CHARS = 12  # counted in columns: a Chinese or Japanese character is two
# How far before a passage sentences_around looks for where its first sentence began.
MAX_SENTENCE_REACH = 4000
SPLIT_CACHE_CHUNKS = 4096  # chunks whose sentences stay split in memory (a few MB)
_SAFE_START = re.compile(rf"(?:\s|[。！？｡]+[{re.escape(_CLOSERS)}]*)(?=[^\s。！？｡{re.escape(_CLOSERS)}])")


def split_sentences(text: str, offset: int = 0) -> list[TextSpan]:
    """Sentences of text as spans (offsets shifted by offset), whitespace trimmed."""
    spans, _ = _spans_from(text, 0, len(text) + 1)
    if offset:
        return [TextSpan(span.start + offset, span.end + offset, span.text) for span in spans]
    return spans


@lru_cache(maxsize=SPLIT_CACHE_CHUNKS)
def sentence_texts(text: str) -> tuple[str, ...]:
    """The sentences of a chunk's text, cut as ingest cut the ones whose vectors it stored.

    Cached: the same chunks come back as candidates of many searches, and splitting them was
    a third of a learned-fusion search.
    """
    return tuple(span.text for span in split_sentences(text))


def quotable_texts(document: Document) -> list[str]:
    """What answers score a document's quotes by, for all of it: its sentences, or its rows
    with their column headers. Ingest stores their vectors, so that a question embeds only itself."""
    if document.is_table:
        return [document.readable(span.start, span.end) for span in document.row_spans(0, len(document.text))]
    return [span.text for span in split_sentences(document.text)]


def _sentence_ends(text: str, begin: int) -> Iterator[tuple[int, int]]:
    """(where a sentence ends, where the next may start) for each sentence end after begin.

    From a begin that _safe_start chose, these are exactly the ends a split of the whole text
    finds there: every test looks at the whole text, not at a window of it.
    """
    start = begin
    for match in _BOUNDARY.finditer(text, begin):
        if match.group("spaced") and not _starts_sentence(text, match.end()):
            continue
        if match.group().startswith(".") and _ends_with_abbreviation(text[start : match.start()]):
            continue
        if match.group().strip(" \t") == "\n" and not _is_line_boundary(text, match.start(), match.end()):
            continue
        yield match.start() + len(match.group().rstrip()), match.end()
        start = match.end()


def _long_enough(span: TextSpan) -> bool:
    return len(span.text) + wide_characters(span.text) >= MIN_SENTENCE_CHARS


def _starts_sentence(text: str, index: int) -> bool:
    """A capital, a digit or a letter of a script without case, maybe after an opening quote."""
    while index < len(text) - 1 and text[index] in _OPENERS:
        index += 1
    character = text[index]
    return character.isupper() or character.isdigit() or (character.isalpha() and not character.islower())


def _is_line_boundary(text: str, newline: int, next_line: int) -> bool:
    """A single line break ends a sentence after punctuation, a short (heading) line, or before a list item."""
    line_start = text.rfind("\n", 0, newline) + 1
    line = text[line_start:newline].rstrip()
    return (
        not line
        or line[-1] in '.!?:;"”’)'
        or len(line) < HEADING_MAX_CHARS
        or bool(_BLOCK_START.match(text, next_line))
    )


def _ends_with_abbreviation(sentence: str) -> bool:
    last_word = sentence.rsplit(None, 1)[-1] if sentence.strip() else ""
    return last_word.lower().strip("(\"'") in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isupper())


def _append_trimmed(spans: list[TextSpan], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    left = start + (len(piece) - len(piece.lstrip()))
    spans.append(TextSpan(left, left + len(stripped), stripped))


def sentences_around(text: str, start: int, end: int, reach: int = 300) -> list[TextSpan]:
    """Whole sentences of text overlapping [start, end), cut exactly as split_sentences(text) cuts them.

    Only the text near the passage is split: from a safe start at least reach before it, moved
    further back while the passage's first sentence may have begun before that start, to the
    first sentence end after it. The sentences stored with their vectors at ingest are those of
    the whole text, and an answer finds them only when both cut alike.
    """
    begin = _safe_start(text, max(0, start - reach))
    while True:
        spans, second_start = _spans_from(text, begin, end)
        exact = begin == 0 or (second_start is not None and second_start <= start)
        if exact or start - begin >= MAX_SENTENCE_REACH:
            break
        begin = _safe_start(text, max(0, begin - 2 * reach))
    # The first span, from begin to the first sentence end, may be the tail of a sentence.
    keep_from = second_start if begin > 0 and exact and second_start is not None else begin
    return [span for span in spans if span.start >= keep_from and span.end > start and span.start < end]


def _spans_from(text: str, begin: int, end: int) -> tuple[list[TextSpan], int | None]:
    """Sentences from begin to the first sentence end at or after end, and where the second starts."""
    spans: list[TextSpan] = []
    segment, second_start = begin, None
    for sentence_end, next_start in _sentence_ends(text, begin):
        _append_trimmed(spans, text, segment, sentence_end)
        segment = next_start
        second_start = next_start if second_start is None else second_start
        if next_start >= end:
            break
    else:
        _append_trimmed(spans, text, segment, len(text))
    return [span for span in spans if _long_enough(span)], second_start


def _safe_start(text: str, index: int) -> int:
    """The last position at or before index where no word is cut and no sentence end straddles.

    That is a word's first letter after a space, or the first character after 。！？ (and their
    closing brackets). Splitting from there decides every later sentence end as a split of the
    whole text does; without one within MAX_SENTENCE_REACH, index itself (best effort).
    """
    if index <= 0:
        return 0
    lowest, reach = max(0, index - MAX_SENTENCE_REACH), 64
    # The last match nearest index is the one a scan of the whole reach ends with (a match never
    # spans a whitespace, and one inside a run of 。！？ ends where the run's does), so the window
    # grows only while it finds none.
    while True:
        low = max(lowest, index - reach)
        safe = index
        for match in _SAFE_START.finditer(text, low, index + 1):
            safe = match.end()
        if safe != index or low == lowest:
            return safe if safe <= index else index
        reach *= 4
