"""Paraphrased measures: "the population of X" and "how many people live in X" are answered by
"the landlocked country of 35 million", which shares no word with them.

Only what is matched is normalised; a quote is never changed.
"""

from __future__ import annotations

import re

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
