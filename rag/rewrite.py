"""Rule-based rewriting of a follow-up question into a standalone retrieval query."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import content_terms, words

_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|also|so|what about|how about|and what about|what of|then)\b",
    re.IGNORECASE,
)
_REFERRING_WORDS = frozenset(
    """it its they them their theirs he him his she her hers this that these those there such
    former latter""".split()
)
SHORT_QUESTION_TERMS = 3


def previous_questions(history: Sequence[object] | None) -> list[str]:
    """User turns of a history given as strings, (user, bot) pairs or role/content dicts."""
    questions: list[str] = []
    for turn in history or ():
        if isinstance(turn, str):
            questions.append(turn)
        elif isinstance(turn, dict) and turn.get("role") == "user":
            questions.append(str(turn.get("content", "")))
        elif isinstance(turn, list | tuple) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return [question for question in questions if question.strip()]


def is_follow_up(question: str) -> bool:
    """True when the question leans on earlier turns (pronouns, 'and what about', very short)."""
    if _FOLLOW_UP_START.match(question):
        return True
    if _REFERRING_WORDS & set(words(question)):
        return True
    return len(content_terms(question)) < SHORT_QUESTION_TERMS


def rewrite_follow_up(question: str, history: Sequence[object] | None) -> str:
    """The question plus the key terms of recent user turns it depends on, or it unchanged."""
    earlier = previous_questions(history)
    if not earlier or not is_follow_up(question):
        return question.strip()
    own_terms = set(content_terms(question))
    carried: list[str] = []
    # Walk back only to the latest standalone question: older topics would add noise.
    for previous in reversed(earlier):
        for term in _carried_terms(previous):
            if term.lower() not in own_terms and term not in carried:
                carried.append(term)
        if not is_follow_up(previous):
            break
    if not carried:
        return question.strip()
    return f"{question.strip()} ({' '.join(carried)})"


def _carried_terms(question: str) -> list[str]:
    """Content words of a question with their original capitalisation (entities stay readable)."""
    wanted = set(content_terms(question))
    terms: list[str] = []
    for token in re.findall(r"[^\W_]+(?:['’][^\W_]+)?", question):
        if token.lower() in wanted and token not in terms:
            terms.append(token)
    return terms
