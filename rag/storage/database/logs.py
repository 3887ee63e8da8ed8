"""Feedback and the question log in a PostgreSQL index: the SQLite folder's tables
(storage/feedback_table.py, storage/question_log.py), with the same columns, JSON kept as text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from rag.feedback import CitationState, Feedback, SourcePassage
from rag.storage import feedback_table, question_log
from rag.storage.database import schema
from rag.storage.question_log import AskedQuestion, LogStatistics

# Each table's key and time columns, by which its rows are deleted.
_DELETED_BY = {"feedback": ("id", "created_at"), "question_log": ("answer_id", "asked_at")}


def tables_found(connection: Any) -> bool:
    """Whether both tables are found, in the schema of this index's documents (a table of that
    name in another schema on the search path belongs to another index)."""
    row = connection.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS name JOIN pg_class found"
        " ON found.oid = to_regclass(name) JOIN pg_class documents"
        " ON documents.oid = to_regclass('documents') AND documents.relnamespace = found.relnamespace",
        (["feedback", "question_log"],),
    ).fetchone()
    return row is not None and row[0] == 2


def create_tables(connection: Any) -> bool:
    """Make both tables (an index made before them); whether they are then found beside its documents."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (schema.SCHEMA_LOCK,))
        connection.execute(schema.LOG_TABLES)
    return tables_found(connection)


def add_feedback(connection: Any, given: Feedback, keep_from: str) -> Feedback:
    """Store feedback with the cited documents' content hashes, dropping what was given before
    keep_from (when set), in one transaction; return it as stored."""
    with connection.transaction():
        cited = [cited.document_id for cited in given.citations]
        hashes = connection.execute(
            "SELECT id, content_hash FROM documents WHERE id = ANY(%s)", (cited,)
        ).fetchall()
        stamped = feedback_table.with_hashes(given, dict(hashes))
        values = feedback_table.values_of(stamped)
        connection.execute(
            f"INSERT INTO feedback ({feedback_table.COLUMNS}) VALUES ({', '.join(['%s'] * len(values))})",
            values,
        )
        if keep_from:
            connection.execute("DELETE FROM feedback WHERE created_at < %s", (keep_from,))
    return stamped


def feedback(connection: Any, since: str, limit: int | None) -> list[Feedback]:
    """Stored feedback given at or after `since` (ISO date or time), oldest first."""
    rows = connection.execute(
        f"SELECT {feedback_table.COLUMNS} FROM feedback WHERE created_at >= %s ORDER BY seq LIMIT %s",
        (since, limit),
    )
    return [feedback_table.from_row(row) for row in rows]


def delete(
    connection: Any,
    table: Literal["feedback", "question_log"],
    ids: Sequence[str],
    who: str | None,
    before: str,
) -> int:
    """Delete rows of the feedback or question log table by key, who, or time before; count them."""
    key, time = _DELETED_BY[table]  # names of this module's own, never a caller's text
    deleted = 0
    with connection.transaction():
        for condition, value in (
            (f"{key} = ANY(%s)", list(ids) if ids else None),
            ("who = %s", who),
            (f"{time} < %s", before or None),
        ):
            if value is not None:
                deleted += connection.execute(f"DELETE FROM {table} WHERE {condition}", (value,)).rowcount
    return deleted


def document_state(connection: Any, document_id: str, source: str) -> CitationState:
    """Whether a document cited in feedback is stored as it was, changed since, or removed."""
    if connection.execute("SELECT 1 FROM documents WHERE id = %s", (document_id,)).fetchone():
        return "current"
    if connection.execute("SELECT 1 FROM documents WHERE source = %s", (source,)).fetchone():
        return "changed"
    return "removed"


def find_passage(connection: Any, words: str) -> SourcePassage | None:
    """The first stored document holding the words (verbatim, or across any white space)."""

    def holding(part: str, limit: int) -> Iterator[Sequence[Any]]:
        # A server-side cursor: documents are read one batch at a time, not all at once.
        with connection.transaction(), connection.cursor(name="passage") as cursor:
            cursor.execute(
                "SELECT id, source, text, content_hash FROM documents WHERE strpos(text, %s) > 0"
                " ORDER BY key LIMIT %s",
                (part, None if limit < 0 else limit),
            )
            yield from cursor

    return feedback_table.passage_in(words, holding)


def log_question(connection: Any, asked: AskedQuestion, keep_from: str) -> AskedQuestion:
    """Append a question to the question log (questions asked before `keep_from` go); return it."""
    stamped = asked.stamped()
    with connection.transaction():
        values = question_log.values_of(stamped)
        connection.execute(
            f"INSERT INTO question_log ({question_log.COLUMNS}) VALUES ({', '.join(['%s'] * len(values))})",
            values,
        )
        if keep_from:
            connection.execute("DELETE FROM question_log WHERE asked_at < %s", (keep_from,))
    return stamped


def asked_questions(connection: Any, since: str, limit: int | None) -> list[AskedQuestion]:
    """The question log from `since` (ISO date or time) on, oldest first."""
    rows = connection.execute(
        f"SELECT {question_log.COLUMNS} FROM question_log WHERE asked_at >= %s ORDER BY seq LIMIT %s",
        (since, limit),
    )
    return [question_log.from_row(row) for row in rows]


def question_statistics(connection: Any, since: str, top: int) -> LogStatistics:
    """What the dashboard counts in the question log from `since` on (storage/question_log.py)."""
    # One snapshot for the three passes, as the SQLite store reads them.
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        days = connection.execute(
            "SELECT substr(asked_at, 1, 10) AS day, channel, sum(answered), sum(1 - answered)"
            " FROM question_log WHERE asked_at >= %s GROUP BY day, channel ORDER BY day",
            (since,),
        ).fetchall()
        timed = connection.execute(
            "SELECT latency_ms, seq FROM question_log WHERE asked_at >= %s ORDER BY latency_ms, seq",
            (since,),
        ).fetchall()
        slowest = [
            question_log.from_row(row)
            for row in connection.execute(
                f"SELECT {question_log.COLUMNS} FROM question_log WHERE seq = ANY(%s)"
                " ORDER BY latency_ms DESC, seq DESC",
                ([seq for _, seq in timed[-top:]] if top > 0 else [],),
            )
        ]
        # Each cited pair is [document id, source]; a question citing a source twice counts once.
        cited = connection.execute(
            "SELECT pair ->> 1 AS source, count(DISTINCT seq) FROM question_log,"
            " jsonb_array_elements(cited::jsonb) AS pair WHERE asked_at >= %s GROUP BY source",
            (since,),
        ).fetchall()
    return question_log.counted(days, timed, slowest, {source: int(count) for source, count in cited})
