"""Which questions ask about a document's structure, in the languages of the packs
(rag/language/vocabulary/): who wrote it, who commented, when it appeared, where it was
published, its title and its headings; and "who said that ...".

A question's own words that say *what* is asked ("who", "wrote", "artículo", "veröffentlicht")
are role words; the rest say which document it is about (topic_terms).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.language.analysis import query_terms, stop_words
from rag.language.scripts import is_unspaced, tokens
from rag.language.structure import (
    AUTHOR,
    BYLINE,
    DATE,
    HEADING,
    HEADLINE,
    POSTED,
    PUBLICATION,
    PUBLISHED,
    TITLE,
)
from rag.language.vocabulary import Vocabulary, Words, all_words, alternatives, vocabularies


def _words(words: Callable[[Vocabulary], Words]) -> str:
    return "(?:" + alternatives(words) + ")"


# Comment words, lower case only: "the Washington Post article" is about a newspaper, not a post.
_POST_WORDS = "(?-i:" + alternatives(lambda pack: pack.comment_words) + ")"
_WHO = _words(lambda pack: pack.who)
_WHEN = _words(lambda pack: pack.when)
_WROTE = _words(lambda pack: pack.wrote)
_AUTHOR_NOUN = _words(lambda pack: pack.author_nouns)
_AUTHOR_OF = "(" + alternatives(lambda pack: pack.author_of) + ")"
_COPULA = "(" + alternatives(lambda pack: pack.copulas) + ")"
_ARTICLE = "(" + alternatives(lambda pack: pack.articles) + ")"
_APPEARED = _words(lambda pack: pack.appeared)
_PUBLISHERS = _words(lambda pack: pack.publishers)
_PUBLISHED = _words(lambda pack: pack.publishes) + r"\b"
_WHICH = _words(lambda pack: pack.which)
_HOW = alternatives(lambda pack: pack.how)
# A title is the document's only with a word for the document near it: "under what title is the
# hymn known", "как называется алфавит" ask for another thing's name.
_TITLE = _words(lambda pack: pack.title_words)
_HEADLINE = _words(lambda pack: pack.headline_words)
_HEADINGS = alternatives(lambda pack: pack.heading_words)
_DOCUMENT = _words(lambda pack: pack.document_words)

# (question pattern, the kinds that answer it, best first). The first pattern that matches wins.
_QUESTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            rf"\b{_WHO}\b.*\b{_POST_WORDS}|\b{_POST_WORDS}\b.*\bby whom\b|\bwho\b.*\bcommenter\b"
            rf"|\b(which|what)\s+(user|person|member|reader|name)\b.*\b{_POST_WORDS}"
            r"|\bname\s+of\s+the\s+(commenter|poster)\b|\b(commenter|poster)['’]s\s+name\b",
            re.I,
        ),
        (AUTHOR,),
    ),
    (
        re.compile(
            rf"\b{_WHO}\b.*\b{_WROTE}\b|\b{_AUTHOR_NOUN}['’]s?\s+names?\b|\bnames?\s+of\s+the\s+{_AUTHOR_NOUN}\b"
            rf"|\b{_AUTHOR_NOUN}\s+{_AUTHOR_OF}\b|\bwhose\s+(article|story|piece|report)\b"
            rf"|\bwritten\s+by\s+whom\b|\b{_WHO}\s+{_COPULA}\s+{_ARTICLE}?\s*{_AUTHOR_NOUN}\b",
            re.I,
        ),
        (BYLINE, AUTHOR),
    ),
    (re.compile(rf"\b{_WHEN}\b.*\b{_POST_WORDS}", re.I), (POSTED, DATE)),
    (
        re.compile(
            rf"\b{_WHEN}\b.*\b{_APPEARED}\b|\b(publication|release)\s+date\b|\bdate\s+of\s+publication\b",
            re.I,
        ),
        # Not a comment's timestamp: "when was the article published" on a page with only comments'
        # dates has no answer there.
        (PUBLISHED, DATE),
    ),
    (
        re.compile(
            rf"\b{_WHICH}\s+{_PUBLISHERS}\b"
            r"|\b(published|printed|run|ran|carried)\s+(in|by)\s+(which|what|whom)\b"
            rf"|\b({_PUBLISHERS}|organi[sz]ation|company)\s+(that|which)?\s*{_PUBLISHED}"
            rf"|\b(which|what)\s+(organi[sz]ation|company)\s+{_PUBLISHED}|\bwho\s+{_PUBLISHED}",
            re.I,
        ),
        (PUBLICATION,),
    ),
    (
        re.compile(
            rf"\b({_WHICH}|{_HOW})\b.*"
            rf"(\b{_TITLE}\b.*\b{_DOCUMENT}\b|\b{_DOCUMENT}\b.*\b{_TITLE}\b|\b{_HEADLINE}\b)"
            r"|\b(what|which)('s|\s+is|\s+was)\s+(the|its)\s+title\s*\??\s*$",
            re.I,
        ),
        (HEADLINE, TITLE),
    ),
    (
        re.compile(
            r"\b(what|which|list)\b.*\b((sub)?headings|section\s+(titles|headings|names))\b"
            r"|\bwhat\s+are\s+the\s+(main\s+)?sections\s+of\b"
            rf"|\b({_HEADINGS})\b",
            re.I,
        ),
        (HEADING,),
    ),
)


def _phrases(words: Callable[[Vocabulary], Words]) -> re.Pattern[str]:
    return re.compile(alternatives(words))


# Chinese, Arabic and Hindi: no capitals and, in Chinese, no spaces, so no word boundaries;
# Hindi's vowel signs are not word characters either. Checked after the patterns above.
_CASELESS_QUESTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (_phrases(lambda pack: pack.asks_commenter), (AUTHOR,)),
    (_phrases(lambda pack: pack.asks_author), (BYLINE, AUTHOR)),
    (_phrases(lambda pack: pack.asks_comment_date), (POSTED, DATE)),
    (_phrases(lambda pack: pack.asks_published), (PUBLISHED, DATE)),
    (_phrases(lambda pack: pack.asks_publication), (PUBLICATION,)),
    (_phrases(lambda pack: pack.asks_title), (HEADLINE, TITLE)),
)


def _role_words(words: Words) -> str:
    """A language's role words as alternatives: anywhere in an unspaced script, else whole words."""
    if words and is_unspaced(words[0]):
        return "|".join(words)
    return r"(?<!\S)(?:" + "|".join(words) + r")(?=[\s?!.,;:؟،।]|$)"


# Their role words, taken out of the question before its topic terms are found.
_CASELESS_ROLE_WORDS = re.compile(
    "|".join(_role_words(pack.phrase_role_words) for pack in vocabularies() if pack.phrase_role_words)
)
# "Who said that ...?": the asker wants whoever wrote the sentence that says it (a commenter).
_ATTRIBUTION = re.compile(
    "|".join(rf"^\s*{opening}" for pack in vocabularies() for opening in pack.attribution), re.I
)
# Words of such questions that say what is asked, not what the document is about.
_ROLE_WORDS = all_words(lambda pack: pack.role_words)


@dataclass(frozen=True)
class StructureQuestion:
    """What a structure question asks for (kinds, best first)."""

    kinds: tuple[str, ...]
    question: str

    def topic_terms(self, language: str) -> frozenset[str]:
        """The question's terms that say which document it is about, analysed as text in that
        language is indexed (role words and stop words left out; none when nothing else is left)."""
        stops = stop_words(language)
        words = tokens(_CASELESS_ROLE_WORDS.sub(" ", self.question))
        kept = [
            token
            for position, token in enumerate(words)
            if token.lower() not in stops
            and (token.lower() not in _ROLE_WORDS or _names_something(token, position, language))
        ]
        return frozenset(query_terms(" ".join(kept), [language])) if kept else frozenset()


def _names_something(token: str, position: int, language: str) -> bool:
    """Whether a role word is part of a name ("the Washington Post article", "the Small Wars
    Journal page"): capitalised after the first word, in a language that capitalises only names."""
    return position > 0 and token[:1].isupper() and token[1:].islower() and language != "de"


def asked_structure(question: str) -> StructureQuestion | None:
    """The structure kinds the question asks for (best first), or None for any other question."""
    if asks_attribution(question):  # about a sentence's author, not the document's
        return None
    for pattern, kinds in (*_QUESTIONS, *_CASELESS_QUESTIONS):
        if pattern.search(question):
            return StructureQuestion(kinds, question)
    return None


def asks_attribution(question: str) -> bool:
    """Whether the question asks who said or wrote something ("Who said that ...?")."""
    return bool(_ATTRIBUTION.match(question))
