"""Feedback on an answer: what was asked and answered, what a person said about it, and when.

A `Feedback` keeps a copy of the answer it is about (question, query, text, citations with the
content hash of each cited document at the time), so it still means something after the
documents change: `rag eval --from-feedback` turns it into a regression question, and a citation
whose document changed since is marked stale instead of being scored.
"""

from __future__ import annotations

import dataclasses
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

from rag.errors import RagError
from rag.settings import Settings

Rating = Literal["helpful", "not_helpful"]
CitationFlag = Literal["does_not_support", "wrong_document"]
CitationState = Literal["current", "changed", "removed"]
RATINGS: tuple[Rating, ...] = get_args(Rating)
CITATION_FLAGS: tuple[CitationFlag, ...] = get_args(CitationFlag)
# What people and OpenAI-style clients send for a rating: thumbs up and down.
_RATING_WORDS: dict[str, Rating] = {
    "helpful": "helpful",
    "up": "helpful",
    "not_helpful": "not_helpful",
    "down": "not_helpful",
}


class FeedbackError(RagError):
    """Feedback that cannot be recorded: an unknown rating or flag, nothing said, an unknown answer."""


def rating_of(value: object) -> Rating | None:
    """The rating a person gave ('up'/'helpful', 'down'/'not_helpful'); None when none was given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.lower() not in _RATING_WORDS:
        raise FeedbackError(f"rating must be one of up, down, helpful, not_helpful, not {value!r}")
    return _RATING_WORDS[value.lower()]


def flag_of(value: object) -> CitationFlag:
    """A citation flag, checked."""
    if value not in CITATION_FLAGS:
        raise FeedbackError(f"a citation flag must be one of {', '.join(CITATION_FLAGS)}, not {value!r}")
    return cast(CitationFlag, value)


@dataclass(frozen=True)
class CitedSpan:
    """A citation of the answer as it was: [n], the document, the quote's offsets and the document's hash."""

    number: int
    document_id: str
    source: str
    start: int
    end: int
    quote: str
    content_hash: str = ""  # of the document's file when the feedback was given ("" when unknown)
    collection: str = ""
    flags: tuple[CitationFlag, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**self.__dict__, "flags": list(self.flags)}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CitedSpan:
        """A cited span from to_dict() or from a citation of Answer.to_dict() ('n')."""
        return cls(
            number=int(record.get("number", record.get("n", 0))),
            document_id=str(record.get("document_id", "")),
            source=str(record.get("source", "")),
            start=int(record.get("start", 0)),
            end=int(record.get("end", 0)),
            quote=str(record.get("quote", "")),
            content_hash=str(record.get("content_hash") or ""),
            collection=str(record.get("collection") or ""),
            flags=tuple(flag_of(flag) for flag in record.get("flags") or ()),
        )


@dataclass(frozen=True)
class SourcePassage:
    """A passage a person named as the right source: pasted words, found verbatim in a stored document."""

    document_id: str
    source: str
    start: int
    end: int
    text: str
    content_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Feedback:
    """What one person said about one answer, with the answer as it was."""

    question: str
    answer: str
    answered: bool
    query: str = ""
    citations: tuple[CitedSpan, ...] = ()
    rating: Rating | None = None
    comment: str = ""
    corrected_answer: str = ""  # the answer the person says is right
    better_source: SourcePassage | None = None  # the passage the person says answers it
    answer_id: str = ""  # Answer.id, the chat completion's id, or /v1/ask's id
    who: str = ""  # the API key holder or UI user, when known
    channel: str = ""  # ui, api, mcp, cli, python
    settings: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    collections: tuple[str, ...] = ()
    # The conversation before the question ({"role", "content"} turns): a follow-up's meaning.
    history: tuple[dict[str, str], ...] = ()
    created_at: str = ""  # ISO 8601 UTC; set when stored
    id: str = ""  # set when stored

    @property
    def flagged(self) -> tuple[CitedSpan, ...]:
        """The citations a person flagged."""
        return tuple(citation for citation in self.citations if citation.flags)

    @property
    def says_something(self) -> bool:
        """Whether it holds a rating, a flag, a comment or a correction."""
        return self.rating is not None or bool(self.flagged or self.comment.strip()) or self.is_corrected

    @property
    def is_corrected(self) -> bool:
        """Whether the person gave the right answer or the right source."""
        return bool(self.corrected_answer.strip()) or self.better_source is not None

    def stamped(self) -> Feedback:
        """This feedback with an id and the time it is stored, unless it has them."""
        return replace(
            self,
            id=self.id or new_feedback_id(),
            created_at=self.created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        values = dict(self.__dict__)
        values["citations"] = [citation.to_dict() for citation in self.citations]
        values["better_source"] = self.better_source.to_dict() if self.better_source else None
        values["collections"] = list(self.collections)
        values["history"] = [dict(turn) for turn in self.history]
        return values


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings an answer was given with, without secrets."""
    values = dataclasses.asdict(settings)
    values["llm_api_key"] = "***" if values.get("llm_api_key") else ""
    return values


@lru_cache(maxsize=1)
def code_version() -> str:
    """'0.1.0' and, when this code runs from a git checkout, '+g<commit>' (asked once per process)."""
    from rag import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


# The turns of a conversation kept with feedback: what the follow-up rewrite reads, and a bit more.
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 4000


def conversation(history: object) -> tuple[dict[str, str], ...]:
    """The {"role", "content"} text turns of a conversation (other entries left out), the last few."""
    if not isinstance(history, list | tuple):
        return ()
    turns = [
        {"role": turn["role"], "content": turn["content"][:MAX_TURN_CHARS]}
        for turn in history
        if isinstance(turn, Mapping)
        and isinstance(turn.get("role"), str)
        and isinstance(turn.get("content"), str)
    ]
    return tuple(turns[-MAX_HISTORY_TURNS:])


def new_feedback_id() -> str:
    """A fresh feedback id."""
    return f"fb-{uuid.uuid4().hex[:20]}"


def feedback_on(
    answer: Mapping[str, Any],
    rating: str | None = None,
    flags: Mapping[int, Sequence[str]] | None = None,
    **details: Any,
) -> Feedback:
    """Feedback on an answer given as Answer.to_dict() (what `rag ask --json` and /v1/ask return).

    rating: helpful (or up), not_helpful (or down), None; flags maps a citation's [n] to the
    flags a person gave it (CITATION_FLAGS); details are Feedback's other fields (comment,
    corrected_answer, who, channel, settings, ...). FeedbackError when any of it is unknown.
    """
    flags = flags or {}
    numbers = {int(record.get("number", record.get("n", 0))) for record in answer.get("citations") or ()}
    unknown = sorted(set(flags) - numbers)
    if unknown:
        raise FeedbackError(
            f"the answer has no citation [{unknown[0]}]; it cites {sorted(numbers) or 'nothing'}"
        )
    citations = tuple(
        replace(cited, flags=tuple(dict.fromkeys(flag_of(flag) for flag in flags.get(cited.number, ()))))
        for cited in map(CitedSpan.from_dict, answer.get("citations") or ())
    )
    feedback = Feedback(
        question=str(answer.get("question", "")),
        answer=str(answer.get("answer", answer.get("text", ""))),
        answered=bool(answer.get("answered", False)),
        query=str(answer.get("query") or ""),
        citations=citations,
        rating=rating_of(rating),
        answer_id=str(answer.get("id") or ""),
        **details,
    )
    if not feedback.question.strip():
        raise FeedbackError("feedback needs the question the answer was for")
    return feedback
