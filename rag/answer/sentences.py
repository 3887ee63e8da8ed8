"""Split text into sentences that keep their character offsets."""

from __future__ import annotations

import re

from rag.language.scripts import wide_characters
from rag.types import TextSpan

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e no fig jan feb mar apr jun jul aug sep sept oct
    nov dec gen col lt sgt rep sen gov inc ltd co corp approx dept est al u.s u.k""".split()
)
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


def split_sentences(text: str, offset: int = 0) -> list[TextSpan]:
    """Sentences of text as spans (offsets shifted by offset), whitespace trimmed."""
    spans: list[TextSpan] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group("spaced") and not _starts_sentence(text, match.end()):
            continue
        if match.group().startswith(".") and _ends_with_abbreviation(text[start : match.start()]):
            continue
        if match.group().strip(" \t") == "\n" and not _is_line_boundary(text, match.start(), match.end()):
            continue
        _append_trimmed(spans, text, start, match.start() + len(match.group().rstrip()), offset)
        start = match.end()
    _append_trimmed(spans, text, start, len(text), offset)
    return [span for span in spans if len(span.text) + wide_characters(span.text) >= MIN_SENTENCE_CHARS]


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


def _append_trimmed(spans: list[TextSpan], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    left = start + (len(piece) - len(piece.lstrip()))
    spans.append(TextSpan(offset + left, offset + left + len(stripped), stripped))


def sentences_around(text: str, start: int, end: int, reach: int = 300) -> list[TextSpan]:
    """Whole sentences of text overlapping [start, end), widened to sentence edges within reach."""
    window_start = max(0, start - reach)
    window_end = min(len(text), end + reach)
    spans = split_sentences(text[window_start:window_end], offset=window_start)
    return [span for span in spans if span.end > start and span.start < end]
