"""Search terms of a text in any language: folded, stemmed words, or character bigrams.

Documents are indexed with the stemmer of their own language; a question is analysed with
the stemmer of every language the index holds in the question's script, so one FTS table
serves a mixed-language corpus.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import snowballstemmer

from rag.language.scripts import FOLDED_SCRIPTS, characters, is_unspaced, script_of, strip_marks, tokens
from rag.language.vocabulary import all_words, vocabulary

# ISO 639-1 code -> (Snowball algorithm, the script it stems). English uses the original
# Porter algorithm, the one SQLite's FTS5 porter tokenizer applies.
STEMMERS: dict[str, tuple[str, str]] = {
    "ar": ("arabic", "Arabic"),
    "ca": ("catalan", "Latin"),
    "cs": ("czech", "Latin"),
    "da": ("danish", "Latin"),
    "de": ("german", "Latin"),
    "el": ("greek", "Greek"),
    "en": ("porter", "Latin"),
    "eo": ("esperanto", "Latin"),
    "es": ("spanish", "Latin"),
    "et": ("estonian", "Latin"),
    "eu": ("basque", "Latin"),
    "fa": ("persian", "Arabic"),
    "fi": ("finnish", "Latin"),
    "fr": ("french", "Latin"),
    "ga": ("irish", "Latin"),
    "hi": ("hindi", "Devanagari"),
    "hu": ("hungarian", "Latin"),
    "hy": ("armenian", "Armenian"),
    "id": ("indonesian", "Latin"),
    "it": ("italian", "Latin"),
    "lt": ("lithuanian", "Latin"),
    "nb": ("norwegian", "Latin"),
    "ne": ("nepali", "Devanagari"),
    "nl": ("dutch", "Latin"),
    "nn": ("norwegian", "Latin"),
    "no": ("norwegian", "Latin"),
    "pl": ("polish", "Latin"),
    "pt": ("portuguese", "Latin"),
    "ro": ("romanian", "Latin"),
    "ru": ("russian", "Cyrillic"),
    "sr": ("serbian", "Cyrillic"),
    "st": ("sesotho", "Latin"),
    "sv": ("swedish", "Latin"),
    "ta": ("tamil", "Tamil"),
    "tr": ("turkish", "Latin"),
    "yi": ("yiddish", "Hebrew"),
}
TATWEEL = "\u0640"  # Arabic stretching stroke: typography, not spelling
# Single characters of grammar that never start or end a content word (Chinese: 的, 了, 吗...).
PARTICLES = all_words(lambda pack: pack.particles)
LONGEST_STOP_WORD = 4

_stemmers = threading.local()  # Snowball stemmer objects keep state: one set per thread


def index_terms(text: str, language: str) -> list[str]:
    """The terms a document in this language is indexed by, in text order."""
    terms: list[str] = []
    stemmed_as = language if language in STEMMERS else "und"  # word_term's choice, made once
    for token in tokens(text):
        if is_unspaced(token):
            terms.extend(bigrams(token))
        else:
            terms.append(_word_term(token, stemmed_as))
    return terms


def index_text(text: str, language: str) -> str:
    """The terms of a text joined by spaces: what the full-text index stores for it."""
    return " ".join(index_terms(text, language))


def query_terms(text: str, languages: Iterable[str], skip: frozenset[str] = frozenset()) -> list[str]:
    """Distinct terms of a question, each word stemmed as every given language would stem it.

    Question words and other stop words of those languages (and the lower-case words in
    skip) are left out, as are single letters, unless nothing else remains; a Chinese or
    Japanese run is cut at its stop words before it becomes bigrams.
    """
    languages = tuple(languages) or ("und",)
    stops = skip.union(*(stop_words(language) for language in languages))
    found: dict[str, None] = {}
    skipped: dict[str, None] = {}
    for token in tokens(text):
        if is_unspaced(token):
            pieces = cut_at_stop_words(token, stops)
            found.update(dict.fromkeys(term for piece in pieces for term in bigrams(piece)))
            skipped.update(dict.fromkeys(bigrams(token)))
            continue
        lone_letter = len(token) == 1 and not token.isdigit()
        target = skipped if lone_letter or token.lower() in stops else found
        target.update(dict.fromkeys(word_term(token, language) for language in languages))
    return list(found or skipped)


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """The language's stop words: its pack's own list, else stopwords-iso's; none when unknown."""
    pack = vocabulary(language)
    if pack is not None and pack.stop_words is not None:
        return pack.stop_words
    import stopwordsiso  # here: most questions' languages carry their own list (it loads importlib.metadata)

    return frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language) else frozenset()


def cut_at_stop_words(run: str, stops: frozenset[str]) -> list[str]:
    """A run of unspaced script split where stop words of two or more characters or particles stand."""
    pieces: list[str] = []
    piece = ""
    index = 0
    while index < len(run):
        length = next(
            (size for size in range(LONGEST_STOP_WORD, 1, -1) if run[index : index + size] in stops),
            1 if run[index] in PARTICLES or (run[index] in stops and _is_kana(run[index])) else 0,
        )
        if length:
            pieces.append(piece)
            piece = ""
            index += length
        else:
            piece += run[index]
            index += 1
    return [piece for piece in [*pieces, piece] if piece]


def _is_kana(character: str) -> bool:
    return "\u3040" <= character <= "\u30ff"


def word_term(token: str, language: str) -> str:
    """A word as indexed: lower case, stemmed when the language's stemmer reads its script, folded."""
    return _word_term(token, language if language in STEMMERS else "und")


@lru_cache(maxsize=200_000)
def _word_term(token: str, language: str) -> str:
    word = token.lower()
    script = script_of(word)
    if language in STEMMERS and STEMMERS[language][1] == script:
        word = _stemmer(language).stemWord(word)
    return fold(word, script)


def fold(word: str, script: str) -> str:
    """Compatibility forms unified; accents and vowel points dropped where they are optional."""
    if script not in FOLDED_SCRIPTS:
        return unicodedata.normalize("NFKC", word)
    folded = strip_marks(unicodedata.normalize("NFKD", word)).replace(TATWEEL, "")
    return unicodedata.normalize("NFC", folded) or word


def bigrams(token: str) -> list[str]:
    """Overlapping pairs of characters of a run of unspaced script; a lone character stays whole."""
    units = characters(token)
    if len(units) == 1:
        return units
    return [units[index] + units[index + 1] for index in range(len(units) - 1)]


def _stemmer(language: str) -> Any:
    cache: dict[str, Any] = _stemmers.__dict__
    if language not in cache:
        cache[language] = snowballstemmer.stemmer(STEMMERS[language][0])
    return cache[language]


def fts_query(text: str, languages: Iterable[str], skip: frozenset[str] = frozenset()) -> str:
    """An FTS5 MATCH expression of the question's terms, quoted and OR-ed: safe for any punctuation."""
    return fts_expression(query_terms(text, languages, skip))


def fts_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression of these terms, quoted and OR-ed."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
