"""POST /v1/feedback and the MCP tool `feedback`: feedback on an answer this server gave, by its id.

A client sends the id of a chat completion (`chatcmpl-...`) or of an /v1/ask answer (`ans-...`).
The server keeps the last RECENT_ANSWERS answers it gave, so the feedback is stored with the
question, the query and the citations as they were, in the index of the collection that answered
(the one its first citation quotes; the first collection asked for a refusal).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.feedback import CitationFlag, FeedbackError, conversation, feedback_on, flag_of, rating_of
from rag.serve.collections import Collections, answering_collection
from rag.serve.errors import APIError, bad_request
from rag.serve.keys import Access
from rag.serve.requests import json_object
from rag.types import Answer

# About 10 kB an answer with its passages: ten megabytes at most, and hours of answers on a busy server.
RECENT_ANSWERS = 1000
MAX_COMMENT_CHARS = 5000
# The file where the processes of one server share their recent answers, and how often it is pruned.
SHARED_ANSWERS_NAME = "recent-answers.sqlite"
PRUNE_EVERY = 100


@dataclass(frozen=True)
class GivenAnswer:
    """An answer this server gave (as the client saw it), the collections it was asked over, and
    the one that answered (whose index keeps the feedback)."""

    answer: dict[str, Any]
    collections: tuple[str, ...]
    answering: str
    history: tuple[dict[str, str], ...] = ()  # the conversation the question was asked in

    @classmethod
    def of(cls, answer: Answer, collections: Sequence[str], history: object = ()) -> GivenAnswer:
        """The record of an answer just given."""
        names = tuple(collections)
        return cls(answer.to_dict(), names, answering_collection(answer, names), conversation(history))


class RecentAnswers:
    """The last answers given, by every id a client may know them by; the oldest go first."""

    def __init__(self, capacity: int = RECENT_ANSWERS) -> None:
        self.capacity = capacity
        # Kept as given: the record feedback needs is made only when feedback comes.
        self._given: OrderedDict[str, tuple[Answer, Sequence[str], object]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer: Answer, collections: Sequence[str], *ids: str, history: object = ()) -> None:
        """Keep an answer, with the conversation it was asked in, under its own id and any other
        (a chat completion's)."""
        given = (answer, tuple(collections), history)
        with self._lock:
            for key in dict.fromkeys((answer.id, *ids)):
                if key:
                    self._given[key] = given
                    self._given.move_to_end(key)
            while len(self._given) > self.capacity * 2:  # two ids per chat completion
                self._given.popitem(last=False)

    def find(self, answer_id: str) -> GivenAnswer | None:
        """The answer given under this id, while it is remembered."""
        with self._lock:
            given = self._given.get(answer_id)
        return None if given is None else GivenAnswer.of(*given)


class SharedAnswers(RecentAnswers):
    """Recent answers kept in a small SQLite file that every serving process of one server shares
    (`rag serve --processes N`): feedback reaches whichever process the client's connection lands on."""

    def __init__(self, path: Path, capacity: int = RECENT_ANSWERS) -> None:
        super().__init__(capacity)
        self.path = path
        self._local = threading.local()
        self._written = 0
        with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS given (id TEXT PRIMARY KEY, body TEXT NOT NULL)")

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            # What is lost with the machine is lost with the server anyway: no fsync per answer.
            connection.execute("PRAGMA synchronous=OFF")
            self._local.connection = connection
        return connection

    def remember(self, answer: Answer, collections: Sequence[str], *ids: str, history: object = ()) -> None:
        """Keep an answer under each of its ids, for every process; the oldest go past the capacity."""
        given = GivenAnswer.of(answer, collections, history)
        body = json.dumps(
            {"answer": given.answer, "collections": given.collections, "answering": given.answering}
            | {"history": given.history},
            ensure_ascii=False,
        )
        rows = [(key, body) for key in dict.fromkeys((answer.id, *ids)) if key]
        connection = self._connection()
        with self._lock:
            self._written += 1
            prune = self._written % PRUNE_EVERY == 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany("INSERT OR REPLACE INTO given (id, body) VALUES (?, ?)", rows)
            if prune:  # two ids per chat completion
                connection.execute(
                    "DELETE FROM given WHERE rowid <= (SELECT max(rowid) FROM given) - ?",
                    (self.capacity * 2,),
                )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def find(self, answer_id: str) -> GivenAnswer | None:
        """The answer given under this id by any of the processes, while it is remembered."""
        row = self._connection().execute("SELECT body FROM given WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        history = tuple(dict(turn) for turn in data["history"])
        return GivenAnswer(data["answer"], tuple(data["collections"]), data["answering"], history)


def give(
    collections: Collections, access: Access, recent: RecentAnswers, body: object, channel: str = "api"
) -> dict[str, Any]:
    """POST /v1/feedback {id, rating?: up|down, citation?: n, flag?, answer?, source?, comment?}."""
    request = json_object(body)
    answer_id = request.get("id")
    if not isinstance(answer_id, str) or not answer_id.strip():
        raise bad_request("`id` must be the id of an answer this server gave (chatcmpl-... or ans-...)", "id")
    given = recent.find(answer_id.strip())
    # An answer over a collection the caller may not read is one they never saw.
    if given is None or not set(given.collections) <= access.readable:
        raise APIError(
            404,
            f"no recent answer with id {answer_id!r}: this server keeps its last {recent.capacity} answers"
            " until it restarts",
            "not_found",
            "id",
        )
    try:
        feedback = feedback_on(
            _with_stored_sources(collections, given.answer, given.collections),
            rating_of(request.get("rating")),
            _flags(request),
            comment=_text(request, "comment"),
            corrected_answer=_text(request, "answer"),
            who=access.holder,
            channel=channel,
            collections=given.collections,
            history=given.history,
        )
        # In the collection that answered; pasted words are found only where the caller may read.
        base = collections.reader(given.answering, access.actor)
        stored = base.add_feedback(feedback, passage=_text(request, "source"))
    except FeedbackError as error:
        raise bad_request(str(error)) from None
    return {"object": "feedback", "id": stored.id, "answer_id": stored.answer_id, "stored": True}


def _text(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_COMMENT_CHARS:
        raise bad_request(f"`{name}` must be a string of at most {MAX_COMMENT_CHARS} characters", name)
    return value


def _flags(request: dict[str, Any]) -> dict[int, list[CitationFlag]]:
    """`citation: n` (with `flag`, default does_not_support) and/or `flags: {"n": [flag, ...]}`."""
    flags: dict[int, list[CitationFlag]] = {}
    try:
        citation = request.get("citation")
        if citation is not None:
            if not isinstance(citation, int) or isinstance(citation, bool):
                raise bad_request("`citation` must be a citation's number [n]", "citation")
            flags[citation] = [flag_of(request.get("flag") or "does_not_support")]
        more = request.get("flags") or {}
        if not isinstance(more, dict):
            raise bad_request(
                '`flags` must map a citation number to flags: {"1": ["wrong_document"]}', "flags"
            )
        for number, kinds in more.items():
            if not str(number).isdigit() or not isinstance(kinds, list):
                raise bad_request(
                    '`flags` must map a citation number to flags: {"1": ["wrong_document"]}', "flags"
                )
            flags.setdefault(int(number), []).extend(flag_of(kind) for kind in kinds)
    except FeedbackError as error:
        raise bad_request(str(error), "flag") from None
    return flags


def _with_stored_sources(
    collections: Collections, answer: dict[str, Any], names: Sequence[str]
) -> dict[str, Any]:
    """The answer as the caller saw it, its citations naming their stored sources again: feedback
    tells a changed document from a removed one by its stored source."""
    citations = []
    for citation in answer["citations"]:
        name = citation.get("collection") or names[0]
        if name in collections.names:
            citation = citation | {"source": collections.get(name).sources.stored(citation["source"])}
        citations.append(citation)
    return answer | {"citations": citations}
