"""The feedback table: what people said about answers, kept with the answers as they were."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from rag.feedback import CitationState, CitedSpan, Feedback, SourcePassage, rating_of
from rag.storage.log_rows import delete_rows

# Format version 4. Self-contained: nothing else in the index refers to it, and removing a
# document leaves its feedback (and the citation's content hash shows the document is gone).
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    answer_id TEXT NOT NULL,
    who TEXT NOT NULL,
    channel TEXT NOT NULL,
    rating TEXT,
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered INTEGER NOT NULL,
    citations TEXT NOT NULL,
    comment TEXT NOT NULL,
    corrected_answer TEXT NOT NULL,
    better_source TEXT,
    settings TEXT NOT NULL,
    code_version TEXT NOT NULL,
    collections TEXT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at);
"""
COLUMNS = (
    "id, created_at, answer_id, who, channel, rating, question, query, answer, answered, citations,"
    " comment, corrected_answer, better_source, settings, code_version, collections, history"
)
# Format version 6 adds the history column to an older table (add_history_column).


def add_history_column(connection: sqlite3.Connection) -> None:
    """Give a feedback table made before format 6 its history column (empty for older feedback)."""
    if "history" not in {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}:
        connection.execute("ALTER TABLE feedback ADD COLUMN history TEXT NOT NULL DEFAULT '[]'")


# Pasted words are matched across any run of white space (a copy from a PDF viewer rewraps lines).
_GAP = r"\s+"
MAX_PASSAGE_CHARS = 5000


def insert(connection: sqlite3.Connection, feedback: Feedback) -> None:
    """Store one feedback (already stamped with its id and time)."""
    connection.execute(
        f"INSERT INTO feedback ({COLUMNS}) VALUES ({', '.join('?' * 18)})", values_of(feedback)
    )


def values_of(feedback: Feedback) -> tuple[object, ...]:
    """The row of one feedback, in COLUMNS order (both engines store these values)."""
    source = feedback.better_source
    return (
        feedback.id,
        feedback.created_at,
        feedback.answer_id,
        feedback.who,
        feedback.channel,
        feedback.rating,
        feedback.question,
        feedback.query,
        feedback.answer,
        int(feedback.answered),
        json.dumps([citation.to_dict() for citation in feedback.citations], ensure_ascii=False),
        feedback.comment,
        feedback.corrected_answer,
        json.dumps(source.to_dict(), ensure_ascii=False) if source else None,
        json.dumps(feedback.settings, ensure_ascii=False, default=str),
        feedback.code_version,
        json.dumps(list(feedback.collections)),
        json.dumps([dict(turn) for turn in feedback.history], ensure_ascii=False),
    )


def with_hashes(given: Feedback, hashes: dict[str, str]) -> Feedback:
    """Feedback stamped with its id and time, each citation with its document's content hash
    (hashes: document id -> content hash, of the cited documents still stored)."""
    stamped = given.stamped()
    return replace(
        stamped,
        citations=tuple(
            replace(cited, content_hash=cited.content_hash or hashes.get(cited.document_id, ""))
            for cited in stamped.citations
        ),
    )


def select(connection: sqlite3.Connection, since: str = "", limit: int | None = None) -> list[Feedback]:
    """Stored feedback given at or after `since` (an ISO date or time; "" for all), oldest first."""
    rows = connection.execute(
        f"SELECT {COLUMNS} FROM feedback WHERE created_at >= ? ORDER BY seq LIMIT ?",
        (since, -1 if limit is None else limit),
    )
    return [from_row(row) for row in rows]


def delete(
    connection: sqlite3.Connection, ids: Sequence[str] = (), who: str | None = None, before: str = ""
) -> int:
    """Delete the feedback with these ids, given by `who`, or given before a time; return how many."""
    return delete_rows(connection, "feedback", ("id", "created_at"), ids, who, before)


def from_row(row: Sequence) -> Feedback:
    """The feedback of a row read in COLUMNS order."""
    better = json.loads(row[13]) if row[13] else None
    return Feedback(
        id=row[0],
        created_at=row[1],
        answer_id=row[2],
        who=row[3],
        channel=row[4],
        rating=rating_of(row[5]),
        question=row[6],
        query=row[7],
        answer=row[8],
        answered=bool(row[9]),
        citations=tuple(CitedSpan.from_dict(record) for record in json.loads(row[10])),
        comment=row[11],
        corrected_answer=row[12],
        better_source=SourcePassage(**better) if better else None,
        settings=json.loads(row[14]),
        code_version=row[15],
        collections=tuple(json.loads(row[16])),
        history=tuple(json.loads(row[17])),
    )


def content_hashes(connection: sqlite3.Connection, document_ids: Sequence[str]) -> dict[str, str]:
    """The content hash of each of these documents that is stored."""
    found: dict[str, str] = {}
    for start in range(0, len(document_ids), 500):
        part = list(document_ids[start : start + 500])
        rows = connection.execute(
            f"SELECT id, content_hash FROM documents WHERE id IN ({','.join('?' * len(part))})", part
        )
        found.update(rows)
    return found


def document_state(connection: sqlite3.Connection, document_id: str, source: str) -> CitationState:
    """Whether a document is stored as it was, changed since (same source, other text), or gone."""
    # A document's id is the hash of its text: the same id means the same text, offsets and all.
    if connection.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone():
        return "current"
    if connection.execute("SELECT 1 FROM documents WHERE source = ?", (source,)).fetchone():
        return "changed"
    return "removed"


def find_passage(connection: sqlite3.Connection, words: str) -> SourcePassage | None:
    """Where pasted words are in a stored document: verbatim first, else across any white space."""

    def holding(part: str, limit: int) -> Iterable[Sequence]:
        return connection.execute(
            "SELECT id, source, text, content_hash FROM documents WHERE instr(text, ?) > 0 ORDER BY key LIMIT ?",
            (part, limit),
        )

    return passage_in(words, holding)


def passage_in(words: str, holding: Callable[[str, int], Iterable[Sequence]]) -> SourcePassage | None:
    """Where pasted words are, in the documents holding(part, limit) reads: (id, source, text,
    content hash) of at most `limit` (-1: every) documents holding the part verbatim, in key order."""
    words = words.strip()[:MAX_PASSAGE_CHARS]
    if not words:
        return None
    for row in holding(words, 1):
        start = row[2].find(words)
        return SourcePassage(row[0], row[1], start, start + len(words), words, row[3])
    pieces = words.split()
    pattern = re.compile(_GAP.join(re.escape(piece) for piece in pieces))
    longest = max(pieces, key=len)
    # Only documents holding the longest word verbatim are read whole.
    for document_id, source, text, content_hash in holding(longest, -1):
        match = pattern.search(text)
        if match is not None:
            return SourcePassage(document_id, source, match.start(), match.end(), match.group(), content_hash)
    return None
