"""Follow-up questions into standalone retrieval queries: by rule, or by the language model when one is set."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.llm.base import ChatModel, LLMError, Message
from rag.prompts import REWRITE_SYSTEM_PROMPT, REWRITE_USER_TEMPLATE
from rag.terms import content_terms, stem, words

REWRITE_MAX_TOKENS = 48
MAX_QUERY_CHARS = 200
# A reply that goes on after a sentence end is an answer, not a rewritten question.
_SECOND_SENTENCE = re.compile(r"\w{3,}[.!?]\s+[\"“(]?[A-Z0-9]")

_FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|also|so|what about|how about|and what about|what of|then)\b",
    re.IGNORECASE,
)
_REFERRING_WORDS = frozenset(
    """it its they them their theirs he him his she her hers this that these those there such
    former latter""".split()
)
SHORT_QUESTION_TERMS = 3
_QUESTION_START = re.compile(
    r"^\s*(what|who|whom|whose|when|where|which|why|how|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|has|have|had)\b",
    re.IGNORECASE,
)


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
    """True when the question leans on earlier turns (pronouns, 'and what about', a fragment)."""
    if _FOLLOW_UP_START.match(question):
        return True
    if _REFERRING_WORDS & set(words(question)):
        return True
    terms = len(content_terms(question))
    # "What is the user's password?" is short but whole: a question word and two terms of
    # its own. "Pemba?" or "How many?" is a fragment that needs the conversation.
    if terms >= 2 and _QUESTION_START.match(question):
        return False
    return terms < SHORT_QUESTION_TERMS


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


def rewrite_query(question: str, history: Sequence[object] | None, chat_model: ChatModel | None) -> str:
    """A standalone retrieval query: by the model for a follow-up, else (or on failure) by rule."""
    earlier = previous_questions(history)
    if chat_model is None or not earlier or not is_follow_up(question):
        return rewrite_follow_up(question, history)
    messages: list[Message] = [
        {"role": "system", "content": REWRITE_SYSTEM_PROMPT},
        {
            "role": "user",
            "content": REWRITE_USER_TEMPLATE.format(
                history="\n".join(f"- {item}" for item in earlier[-3:]), question=question.strip()
            ),
        },
    ]
    try:
        reply = chat_model.complete(messages, REWRITE_MAX_TOKENS)
    except LLMError:
        return rewrite_follow_up(question, history)
    lines = [line.strip().strip("\"'“”") for line in reply.strip().splitlines() if line.strip()]
    query = lines[0] if lines else ""
    return query if _is_plausible_query(query, question) else rewrite_follow_up(question, history)


def _is_plausible_query(query: str, question: str) -> bool:
    """Small models often answer instead of rewriting: keep a short query that keeps the question's terms."""
    if not query or len(query) > MAX_QUERY_CHARS or _SECOND_SENTENCE.search(query):
        return False
    query_stems = {stem(term) for term in content_terms(query)}
    return {stem(term) for term in content_terms(question)} <= query_stems
