"""Tokens, stop words and a light stemmer shared by lexical search and sentence scoring."""

from __future__ import annotations

import re
from functools import lru_cache

# Stems remembered: a language's working vocabulary, a few megabytes.
STEMS_KEPT = 65536
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don didn doesn isn wasn weren won also may might must shall many much one ones tell say
    said according called named name kind type please""".split()
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    found = WORD.findall(text.lower())
    return [word.replace("’", "'") for word in found] if "’" in text else found


@lru_cache(maxsize=STEMS_KEPT)
def stem(word: str) -> str:
    """A light suffix-stripping stem, enough to match 'treaties' with 'treaty'."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def content_terms(text: str) -> list[str]:
    """Words that carry meaning: no stop words, no one-letter tokens, order kept, no repeats."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def without_surrogates(text: str) -> str:
    """Text with lone surrogates (from undecodable command-line bytes) replaced by U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)
