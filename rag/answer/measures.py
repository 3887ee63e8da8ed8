"""Measures and counts: what answers "how many X", and the measures asked in other words.

"The population of X" and "how many people live in X" are answered by "the landlocked country
of 35 million", which shares no word with them. "How many soldiers died" is answered only by a
sentence that gives a number, and surely only by one that counts soldiers ("17 years of war"
counts years). Only what is matched is normalised; a quote is never changed.
"""

from __future__ import annotations

import re

from rag.answer.question_words import count_forms, is_number
from rag.terms import stem, words

# "how many soldiers", "how much money": the thing counted is the word after the question words,
# unless that word is a verb or "of" ("how much did it cost", "how many of them").
_HOW_MANY = re.compile(r"\bhow\s+(?:many|much)\b(?:\s+([^\W\d_]+))?", re.I)
_ASKS_COUNT = re.compile(r"\bhow\s+many\b", re.I)
_NOT_COUNTED = frozenset(
    "of is are was were be been do does did has have had will would can could should may might".split()
)

# Words that ask for a count of people; they are the measure, not the topic.
_ASKS_POPULATION = re.compile(
    r"\bpopulation\b|\bhow\s+many\s+(?:people|inhabitants|residents|citizens|persons)\b"
    r"(?:\s+(?:live|lives|living|reside|are\s+there))?|\binhabitants\b",
    re.I,
)
_AMOUNT = r"\d[\d,.]*(?:\s*(?:million|billion|thousand|m\b|bn\b))?"
_STATES_POPULATION = re.compile(
    rf"\b(?:country|nation|city|state|region|province|island|home|population)\s+of\s+"
    rf"(?:about\s+|some\s+|nearly\s+|around\s+|over\s+|more\s+than\s+|almost\s+)?{_AMOUNT}"
    rf"|\b{_AMOUNT}\s+(?:people|inhabitants|residents|citizens)\b"
    rf"|\bpopulation\b[^.]{{0,40}}?\b{_AMOUNT}",
    re.I,
)


def asks_population(question: str) -> bool:
    """Whether the question asks how many people live somewhere."""
    return bool(_ASKS_POPULATION.search(question))


def states_measure(question: str, sentence: str) -> bool:
    """Whether the sentence states the measure the question asks for, in any wording."""
    return asks_population(question) and bool(_STATES_POPULATION.search(sentence))


def without_measure(question: str) -> str:
    """The question without the words that name its measure: what the passage must be about."""
    return _ASKS_POPULATION.sub(" ", question) if asks_population(question) else question


def asks_count(question: str) -> bool:
    """Whether the question asks "how many": a count, written as a number. ("How much" is also
    answered in words: "vast areas", "many times".)"""
    return bool(_ASKS_COUNT.search(question))


def holds_count(question: str, sentence: str) -> bool:
    """Whether the sentence can answer a "how many" question: it writes a number the question does
    not (a year is no count), or states the measure asked for. True for every other question."""
    if not asks_count(question) or states_measure(question, sentence):
        return True
    # "the landlocked country of 35 million" counts its people, not what another question asks.
    counted = _STATES_POPULATION.sub(" ", sentence)
    return bool(count_forms(counted) - count_forms(question))


def counts_asked(question: str, sentence: str) -> bool:
    """Whether a number in the sentence counts what "how many X" asks for ("17 years of war" for
    "how many years"), or the sentence states the measure asked for in other words."""
    if states_measure(question, sentence):
        return True
    asked = _HOW_MANY.search(question)
    if asked is None or asked.group(1) is None or asked.group(1).lower() in _NOT_COUNTED:
        return False
    unit = stem(asked.group(1).lower())
    tokens = words(sentence)
    # A number written just before the counted word: "17 years", "five-member", "a dozen soldiers".
    return any(
        stem(token) == unit and any(is_number(word) for word in tokens[max(0, index - 3) : index])
        for index, token in enumerate(tokens)
    )
