"""Feedback and the question log as an opened index keeps them: whether they are on, how long they
are kept, where pasted words of the right source are, and a failed write that costs no answer.

Both engines store the rows (`feedback_table`, `question_log`); this is what the facade asks of
them. It takes the index as the `Logged` protocol, which `KnowledgeBase` (or a reader's view of
it) is: a view finds only words in documents its reader may read.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from rag.errors import NotFoundError, RagError
from rag.feedback import Feedback, FeedbackError, SourcePassage, code_version, settings_snapshot
from rag.settings import Settings
from rag.storage.engine import DocumentStore
from rag.storage.question_log import AskedQuestion
from rag.storage.store import Store
from rag.types import Document

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


class Logged(Protocol):
    """What keeping feedback and questions needs of an opened index (a `KnowledgeBase`)."""

    location: str
    settings: Settings

    @property
    def exists(self) -> bool: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def reader(self) -> object | None: ...

    def engine_store(self) -> Store | PostgresStore: ...

    def document(self, document_id: str) -> Document: ...

    def resolve_source(self, source: str) -> str: ...


def add_feedback(index: Logged, feedback: Feedback, passage: str) -> Feedback:
    """Store feedback on an answer, its pasted passage found in a document; return it as stored."""
    days = index.settings.feedback_days
    if days == 0:
        raise FeedbackError(f"feedback is turned off for {index.location} (RAG_FEEDBACK_DAYS=0)")
    if passage.strip():
        feedback = replace(feedback, better_source=source_passage(index, passage))
    if not feedback.says_something:
        raise FeedbackError("say something: a rating, a flagged citation, a comment or a correction")
    keep_from = "" if days is None else days_ago(days)
    return index.engine_store().add_feedback(
        replace(
            feedback,
            settings=feedback.settings or settings_snapshot(index.settings),
            code_version=feedback.code_version or code_version(),
        ),
        keep_from,
    )


def source_passage(index: Logged, passage: str) -> SourcePassage:
    """Where pasted words are in a stored document; failing that, a document named by its source."""
    found = index.engine_store().find_passage(passage)
    try:
        if found is not None and index.reader is not None:
            index.document(found.document_id)  # a reader's view: words in a forbidden document are not found
        if found is not None:
            return found
        source = index.resolve_source(passage.strip())
    except NotFoundError:
        raise FeedbackError(
            f"the passage is not in any document of {index.location}, nor is it a document's name:"
            " paste words exactly as the document has them"
        ) from None
    document = index.store.document(source)
    content_hash = index.store.content_hashes([source]).get(source, "")
    return SourcePassage(document.id, source, 0, len(document.text), "", content_hash)


def log_question(index: Logged, asked: AskedQuestion) -> None:
    """Append a question to the log, unless it is off or the folder read-only; a failed write is
    one line on stderr."""
    if not index.settings.log_questions or not index.exists:
        return
    store = index.engine_store()
    if isinstance(store, Store) and store.read_only:
        return
    days = index.settings.question_log_days
    keep_from = "" if days is None else days_ago(days)
    try:
        store.log_question(asked, keep_from)
    except RagError as error:
        print(f"question log: not written to {index.location} ({error})", file=sys.stderr, flush=True)


def days_ago(days: int) -> str:
    """The ISO time (UTC) `days` days ago: where a retention period starts."""
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
