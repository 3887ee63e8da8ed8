"""Feedback on the chat's answers as plain functions: testable without a server or a browser.

A thumb on an answer is stored at once; the Feedback panel adds the latest answer's citation
flags, a comment, the right answer and the right passage (pasted words, found in the documents).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import rag
from ui import render
from ui.responses import Turn, history_of

FLAG_LABELS = {"does_not_support": "does not support the answer", "wrong_document": "wrong document"}
RATING_CHOICES = [("Helpful", "helpful"), ("Not helpful", "not_helpful")]
# Where feedback on an answer is stored: the one index, or (several served collections) a function
# giving the index of the collection that answered.
Target: TypeAlias = rag.KnowledgeBase | Callable[[rag.Answer], rag.KnowledgeBase]


def turn_of_message(index: int | tuple[int, int] | Sequence[int]) -> int:
    """The turn a chatbot message index belongs to (each turn is a question, then its answer)."""
    position = index if isinstance(index, int) else index[0]
    return int(position) // 2


def flag_choices(turns: Sequence[Turn]) -> list[tuple[str, str]]:
    """(label, value) of every flag a person may give the latest answer's citations: '1:wrong_document'."""
    answer = _latest_final(turns)
    if answer is None:
        return []
    return [
        (f"[{citation.number}] {label}", f"{citation.number}:{flag}")
        for citation in answer.citations
        for flag, label in FLAG_LABELS.items()
    ]


def _latest_final(turns: Sequence[Turn]) -> rag.Answer | None:
    if not turns or not turns[-1].is_final:
        return None
    return turns[-1].answer


def thumb(base: Target, turns: Sequence[Turn], index: int | Sequence[int], liked: object, who: str) -> str:
    """Store a thumb up or down on the answer at a chatbot message index; the status to show."""
    number = turn_of_message(index)
    answer = turns[number].answer if number < len(turns) and turns[number].is_final else None
    if answer is None:
        return _status("Wait for the answer to finish, then rate it.")
    rating = "helpful" if liked is True or liked == "Like" else "not_helpful"
    history = tuple(history_of(turns[:number]))
    return _store(base, answer, "", rating=rating, who=who, history=history)


def panel_feedback(
    base: Target,
    turns: Sequence[Turn],
    rating: str | None,
    flags: Sequence[str],
    texts: Sequence[str],
    who: str,
) -> str:
    """Store the Feedback panel's feedback on the latest answer; texts: comment, right answer, right passage."""
    answer = _latest_final(turns)
    if answer is None:
        return _status("Ask a question first; feedback is about the latest answer.")
    comment, corrected, passage = (text.strip() for text in texts)
    chosen: dict[int, list[str]] = {}
    for value in flags:
        number, _, flag = value.partition(":")
        chosen.setdefault(int(number), []).append(flag)
    said = {
        "comment": comment,
        "corrected_answer": corrected,
        "who": who,
        "history": tuple(history_of(turns[:-1])),
    }
    return _store(base, answer, passage, rating=rating or None, flags=chosen, **said)


def _store(base: Target, answer: rag.Answer, passage: str, **said: Any) -> str:
    """Store what a person said about an answer (rag.feedback_on's arguments); the status to show.

    A visitor is never shown a server path: the passage's file by its name (as citations show
    it), the index as "the index"; the server's log keeps the full paths.
    """
    target = base if isinstance(base, rag.KnowledgeBase) else base(answer)
    try:
        stored = target.add_feedback(rag.feedback_on(answer.to_dict(), channel="ui", **said), passage=passage)
    except rag.FeedbackError as error:  # the visitor can fix it: say what, without the index's path
        return _status(str(error).replace(target.location, "the index"), is_error=True)
    except rag.RagError as error:
        print(f"feedback: not stored in {target.location} ({error})", file=sys.stderr, flush=True)
        return _status("Your feedback could not be stored; the server's log says why.", is_error=True)
    found = stored.better_source
    where = ""
    if found is not None and found.text:
        print(f"feedback {stored.id}: the passage is in {found.source}", file=sys.stderr, flush=True)
        where = f" The passage was found in {found.source.rstrip('/').rsplit('/', 1)[-1]}."
    return _status(f"Thank you: feedback stored ({stored.id}).{where}")


def _status(message: str, is_error: bool = False) -> str:
    kind = "feedback-status error" if is_error else "feedback-status"
    return f"<p class='{kind}'>{render.escape(message)}</p>"
