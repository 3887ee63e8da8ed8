"""Language packs: each language's words, in one module of this package per language.

A pack is a module named by its ISO 639-1 code (`de.py`) that defines `VOCABULARY =
Vocabulary(...)`; `vocabularies()` finds every one, so adding a language is adding a file.
The features that read the words build their own patterns from them: structure questions
(rag/answer/structure_questions.py), answer types (rag/answer/question_words.py), bylines and
dates (rag/language/structure.py), sentence ends (rag/language/sentences.py) and stop words
(rag/language/analysis.py). Words given as regular-expression fragments say so; those of
languages written with capitals are matched between word boundaries, ignoring case.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

Words = tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The words of one language that Verbatim's features recognise; empty where it has none."""

    code: str  # ISO 639-1, as language detection names it
    name: str
    has_capitals: bool = True  # False: names are found by labels and length, phrases without word boundaries

    # Structure questions ("who wrote the article?"), as regular-expression fragments.
    who: Words = ()
    when: Words = ()
    which: Words = ()
    how: Words = ()  # "how is the article titled"
    wrote: Words = ()
    author_nouns: Words = ()
    author_of: Words = ()  # "the author of ..."
    copulas: Words = ()  # "who is the author"
    articles: Words = ()
    appeared: Words = ()  # "when was it published"
    publishes: Words = ()  # "which company publishes ..."
    publishers: Words = ()  # newspaper, magazine, ...
    title_words: Words = ()
    headline_words: Words = ()
    heading_words: Words = ()  # a question naming these asks for the section headings
    document_words: Words = ()  # article, story, report, ...
    comment_words: Words = ()  # matched in lower case only: "the Washington Post article" is no post
    attribution: Words = ()  # how "who said that ..." opens, after any spaces
    # Words of structure questions that say what is asked, not which document it is about.
    role_words: frozenset[str] = frozenset()
    # Structure questions of languages without capitals: whole phrases, matched anywhere.
    asks_commenter: Words = ()
    asks_author: Words = ()
    asks_comment_date: Words = ()
    asks_published: Words = ()
    asks_publication: Words = ()
    asks_title: Words = ()
    phrase_role_words: Words = ()  # taken out of such a question before its topic terms are found

    # Question words of what an answer looks like (outside English, which has its own table).
    asks_count: Words = ()
    asks_year: Words = ()
    asks_person: Words = ()

    # Document structure: bylines, author labels and dates.
    short_months: Words = ()  # English's: abbreviated or not, before or after the day
    months: Words = ()  # written after the day; not those written as in English
    weekdays: Words = ()
    byline_starts: Words = ()  # "By" before a byline's names (case matters)
    author_labels: Words = ()  # "Author:" before names
    labelled_bylines: Words = ()  # without capitals: a byline's label with its separator
    byline_roles: Words = ()  # "Staff", "Correspondent": where a byline's names end
    name_joiners: frozenset[str] = frozenset()  # lower-case words between names in a byline
    phrase_name_joiners: Words = ()  # the same, in a script without capitals
    company_abbreviations: frozenset[str] = frozenset()  # "Inc." ends a copyright holder's name

    # Sentences and search terms.
    abbreviations: frozenset[str] = frozenset()  # a full stop after these ends no sentence
    stop_words: frozenset[str] | None = None  # None: stopwords-iso's list
    particles: frozenset[str] = frozenset()  # one-character grammar words of an unspaced script


@lru_cache(maxsize=1)
def vocabularies() -> tuple[Vocabulary, ...]:
    """Every language pack of this package, English first, then by code."""
    found = [
        importlib.import_module(f"{__name__}.{module.name}").VOCABULARY
        for module in pkgutil.iter_modules(__path__)
        if not module.name.startswith("_")
    ]
    # English first: the patterns were written for it and other languages' words extend them.
    return tuple(sorted(found, key=lambda vocabulary: (vocabulary.code != "en", vocabulary.code)))


def vocabulary(code: str) -> Vocabulary | None:
    """The pack of a language, or None when there is none."""
    return next((pack for pack in vocabularies() if pack.code == code), None)


def alternatives(words: Callable[[Vocabulary], Iterable[str]], ignore_case: bool = False) -> str:
    """The words every pack gives, once each in pack order, as a regular-expression alternation.

    With ignore_case a word that differs from an earlier one only in case is left out: two
    languages may spell a month alike ("Mai", "mai") for a pattern that ignores case.
    """
    found: dict[str, str] = {}
    for pack in vocabularies():
        for word in words(pack):
            found.setdefault(word.lower() if ignore_case else word, word)
    return "|".join(found.values())


def all_words(words: Callable[[Vocabulary], Iterable[str]]) -> frozenset[str]:
    """The union of a set of words over every pack."""
    return frozenset(word for pack in vocabularies() for word in words(pack))
