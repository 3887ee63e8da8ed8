"""What a question asks for (a number, a date, a person), read from its question words in several languages.

English has its own table (its question word opens the question, and a name is a run of
capitalised words); the other one serves the languages scored by lexical evidence
(answer/lexical.py), where the question word is often mid-sentence (Chinese, Hindi).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.language.vocabulary import alternatives

_NUMBER = re.compile(r"(?<![\d.,])\d[\d.,\s]*")
_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2})(?!\d)")
_NAME = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω][a-zà-öø-ÿа-яёα-ω]+(?:[ -][A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω][a-zà-öø-ÿа-яёα-ω]+)+\b")
# (question words, what an answer to them looks like), in the other languages
OTHER_ANSWER_TYPES = (
    (re.compile(alternatives(lambda pack: pack.asks_count), re.I), _NUMBER),
    (re.compile(alternatives(lambda pack: pack.asks_year), re.I), _YEAR),
    # German capitalises every noun, so a capitalised pair is no sign of a name there.
    (re.compile(alternatives(lambda pack: pack.asks_person), re.I), _NAME),
)

# English numbers in words, the one list every answer rule reads: counts ("five", "a dozen",
# "forty"), multipliers ("once", "twice") and "none".
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty"
    r"|dozens?|hundreds?|thousands?|millions?|billions?|trillions?|once|twice|none"
)

# What an English question word asks for, and the surface form such an answer usually has.
ENGLISH_ANSWER_TYPES = (
    (
        re.compile(
            r"^\s*(how (many|much|long|old|far|large|big|tall)|what (percentage|number|amount))\b", re.I
        ),
        re.compile(rf"\b\d[\d,.]*\b|\b(?:{NUMBER_WORDS})\b", re.I),
    ),
    (
        re.compile(r"^\s*(when|what year|in what year|which year)\b", re.I),
        # A year or decade ("1979", "the 1990s"), a month with a day ("Nov. 9"), or a month named
        # on its own ("in September"; "May" only after "in", as it is also a verb).
        re.compile(
            r"\b(1\d{3}|20\d{2})s?\b|\b(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
            r"|\b(January|February|March|April|June|July|August|September|October|November|December)\b"
            r"|\b(?i:in)\s+May\b"
        ),
    ),
    (
        re.compile(r"^\s*(who|whom|whose)\b", re.I),
        # A name of two words anywhere, or of one after the sentence's first word ("... Newton").
        re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b|(?<=[a-z,;] )[A-Z][a-z]+\b"),
    ),
)
AnswerTypes = tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
# A year is no count: "How many soldiers died?" is not answered by "In 1979, the army invaded".
# A four-digit 1000-2099 after a preposition of time or a month, or followed by no lowercase
# word ("1979," "2000.") is read as a year; "1500 soldiers" and "1,500" stay counts.
_ENGLISH_YEAR = re.compile(
    r"(?:\b(?:in|since|from|until|till|by|before|after|during|between|around|circa|early|late)\s+"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2},?\s+)?)"
    r"(?:1\d{3}|20\d{2})\b|(?<![\d,.])(?:1\d{3}|20\d{2})\b(?![,.]?\d)(?!\s+[a-z])",
    re.I,
)


# Numbers in figures or words: what a count is written with ("1,500", "17", "five", "a dozen", "none");
# not dates written with slashes ("9/11").
_COUNT = re.compile(rf"(?<![\w.,/])\d(?:[\d,.]*\d)?(?![\w/])|\b(?:{NUMBER_WORDS})\b", re.I)


def is_number(word: str) -> bool:
    """Whether a word writes a number, in figures or words: "17", "five", "dozen"."""
    return _COUNT.fullmatch(word) is not None


def count_forms(text: str) -> set[str]:
    """The numbers a text writes, in figures or words, lower case; English years left out."""
    return _answer_forms(_COUNT, text, skip_years=True)


@dataclass(frozen=True)
class AnswerType:
    """What a question's question word asks for: the look of an answer, and what the question
    itself already says in that look (a sentence must hold more)."""

    looks_like: re.Pattern[str]
    skip_years: bool
    given: frozenset[str]


def answer_type(question: str, table: AnswerTypes = OTHER_ANSWER_TYPES) -> AnswerType | None:
    """The answer type of the first question word of the table the question holds, if any.
    In English a year does not answer a question for a count."""
    for asks, looks_like in table:
        if asks.search(question):
            years = table is ENGLISH_ANSWER_TYPES and table[0][0] is asks
            return AnswerType(looks_like, years, frozenset(_answer_forms(looks_like, question, years)))
    return None


def holds_answer_type(asked: AnswerType | None, sentence: str) -> float:
    """1.0 when the sentence holds an answer of the asked type beyond what the question says."""
    if asked is None:
        return 0.0
    return 1.0 if _answer_forms(asked.looks_like, sentence, asked.skip_years) - asked.given else 0.0


def answer_type_match(question: str, sentence: str, table: AnswerTypes = OTHER_ANSWER_TYPES) -> float:
    """1.0 when the sentence holds what the question word asks for (a number, a date, a name)
    beyond what the question itself already says; the first matching question word decides."""
    return holds_answer_type(answer_type(question, table), sentence)


def _answer_forms(looks_like: re.Pattern[str], text: str, skip_years: bool) -> set[str]:
    """The answer-shaped strings of a text, lower case; without its years when skip_years."""
    years = [match.span() for match in _ENGLISH_YEAR.finditer(text)] if skip_years else []
    return {
        match.group(0).strip().lower()
        for match in looks_like.finditer(text)
        if not any(start <= match.start() and match.end() <= end for start, end in years)
    }


# A name made of Latin letters and digits, starting with a letter: "AS-206", "X.25", "internet2",
# "COVID-19", "F-16", also inside Chinese text. Quantities and ordinals start with a digit
# ("10pm", "4G", "2nd"); a number joined to a word of another script ("1520年", "و2005") is no name.
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9.-])[A-Za-z][A-Za-z0-9.-]*\d[A-Za-z0-9.-]*(?<![.-])(?![A-Za-z0-9-])")


def identifiers(question: str) -> list[str]:
    """The identifiers a question names; a document that never mentions one is not about it."""
    return [match.group(0) for match in _IDENTIFIER.finditer(question)]
