"""What the API tells a client about the support of an answer's sentences.

A client of an OpenAI-compatible endpoint shows `content` and may read nothing else, so a
sentence that no quote supports is never passed on as verified: it is marked in the text
(UNSUPPORTED_MARKER right after it) or, with `drop_unsupported`, left out; `sentences` lists
every checked sentence with its support; `answered` is true only when every sentence kept in
the text is supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag.types import Answer

UNSUPPORTED_MARKER = "[unsupported]"


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer as the API gives it: marked text, whether it stands as answered, notice, sentences."""

    text: str
    answered: bool
    notice: str
    sentences: list[dict[str, Any]]


def checked_answer(answer: Answer, drop_unsupported: bool) -> CheckedAnswer:
    """The answer with its unsupported sentences marked (or noted as left out) and `answered` strict."""
    text = marked_text(answer, drop_unsupported)
    unsupported = [sentence for sentence in answer.sentences if not sentence.is_supported]
    is_answered = answer.answered and (drop_unsupported or not unsupported)
    notice = answer.notice
    if answer.answered and unsupported:
        notice = _join(notice, _unsupported_notice(len(unsupported), len(answer.sentences), drop_unsupported))
    return CheckedAnswer(text, is_answered, notice, [sentence.to_dict() for sentence in answer.sentences])


def marked_text(answer: Answer, drop_unsupported: bool) -> str:
    """The answer text with the marker after each unsupported sentence it holds.

    The text is the checked sentences in order, each supported one followed by its [n], then
    (while streaming) the unchecked tail; a dropped sentence is not in it.
    """
    text = answer.text
    pieces: list[str] = []
    copied = searched = 0
    for sentence in answer.sentences:
        if not sentence.text or (drop_unsupported and not sentence.is_supported):
            continue
        found = text.find(sentence.text, searched)
        if found < 0:
            continue
        searched = found + len(sentence.text)
        if not sentence.is_supported:
            pieces.append(f"{text[copied:searched]} {UNSUPPORTED_MARKER}")
            copied = searched
    pieces.append(text[copied:])
    return "".join(pieces)


def _unsupported_notice(unsupported: int, total: int, drop_unsupported: bool) -> str:
    counted = f"{unsupported} of the {total} sentences the language model wrote"
    if drop_unsupported:
        return f"{counted} had no support in the documents and were left out."
    return (
        f"{counted} had no support in the documents; each is marked {UNSUPPORTED_MARKER}: do not rely on it."
    )


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first else second
