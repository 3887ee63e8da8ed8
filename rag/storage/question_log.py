"""The question log: one row per question asked through the UI, the API, MCP or the CLI.

What the quality dashboard (`rag report`, the UI's Quality tab) counts: questions per day, how
many were answered, how long they took, which documents their answers cited. Format version 6.
Like the feedback table it refers to nothing else in the index: a removed document leaves its
rows, and a cited document is named by id and source as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from rag.storage.log_rows import delete_rows
from rag.types import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS question_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,
    mode TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    cited TEXT NOT NULL,
    answer_id TEXT NOT NULL,
    who TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS question_log_asked ON question_log(asked_at);
CREATE INDEX IF NOT EXISTS question_log_who ON question_log(who);
"""
COLUMNS = "asked_at, collection, question, answered, mode, latency_ms, cited, answer_id, who, channel"


@dataclass(frozen=True)
class CitedDocument:
    """A document an answer cited: its id (the hash of its text) and source, as they were."""

    document_id: str
    source: str


@dataclass(frozen=True)
class AskedQuestion:
    """One question as the log keeps it: when, where, what, how it went, how long it took."""

    question: str
    answered: bool
    mode: str  # extractive, llm, computed, ... (Answer.mode)
    latency_ms: float
    cited: tuple[CitedDocument, ...] = ()
    answer_id: str = ""
    who: str = ""  # the API key holder, the signed-in user, the token's subject, when known
    channel: str = ""  # ui, api, mcp, cli, python
    collection: str = ""  # the served collection that answered ("" for an index asked directly)
    asked_at: str = field(default="")  # ISO 8601 UTC; set when stored

    def stamped(self) -> AskedQuestion:
        """This row with the time it is stored, unless it has one."""
        return replace(self, asked_at=self.asked_at or datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        values = dict(self.__dict__)
        values["cited"] = [document.__dict__ for document in self.cited]
        return values


def asked_about(
    answer: Answer, latency_ms: float, who: str, channel: str, collection: str = ""
) -> AskedQuestion:
    """The log row of a final answer: each cited document once, in citation order."""
    cited = dict.fromkeys(CitedDocument(c.quote.document_id, c.source) for c in answer.citations)
    return AskedQuestion(
        question=answer.question,
        answered=answer.answered,
        mode=answer.mode,
        latency_ms=latency_ms,
        cited=tuple(cited),
        answer_id=answer.id,
        who=who,
        channel=channel,
        collection=collection,
    )


def insert(connection: sqlite3.Connection, asked: AskedQuestion) -> None:
    """Store one question (already stamped with its time)."""
    connection.execute(
        f"INSERT INTO question_log ({COLUMNS}) VALUES ({', '.join('?' * 10)})", values_of(asked)
    )


def values_of(asked: AskedQuestion) -> tuple[object, ...]:
    """The row of one question, in COLUMNS order (both engines store these values)."""
    cited = [[document.document_id, document.source] for document in asked.cited]
    return (
        asked.asked_at,
        asked.collection,
        asked.question,
        int(asked.answered),
        asked.mode,
        round(asked.latency_ms, 1),
        json.dumps(cited, ensure_ascii=False),
        asked.answer_id,
        asked.who,
        asked.channel,
    )


def select(connection: sqlite3.Connection, since: str = "", limit: int | None = None) -> list[AskedQuestion]:
    """Questions asked at or after `since` (an ISO date or time; "" for all), oldest first."""
    rows = connection.execute(
        f"SELECT {COLUMNS} FROM question_log WHERE asked_at >= ? ORDER BY seq LIMIT ?",
        (since, -1 if limit is None else limit),
    )
    return [from_row(row) for row in rows]


def from_row(row: Sequence) -> AskedQuestion:
    """The question of a row read in COLUMNS order."""
    return AskedQuestion(
        asked_at=row[0],
        collection=row[1],
        question=row[2],
        answered=bool(row[3]),
        mode=row[4],
        latency_ms=row[5],
        cited=tuple(CitedDocument(str(pair[0]), str(pair[1])) for pair in json.loads(row[6])),
        answer_id=row[7],
        who=row[8],
        channel=row[9],
    )


def delete(
    connection: sqlite3.Connection, answer_ids: Sequence[str] = (), who: str | None = None, before: str = ""
) -> int:
    """Delete the questions of these answers, those asked by `who`, or asked before a time; return how many."""
    return delete_rows(connection, "question_log", ("answer_id", "asked_at"), answer_ids, who, before)


@dataclass(frozen=True)
class LogStatistics:
    """What the dashboard counts in one question log, counted by SQLite rather than row by row."""

    by_day: dict[str, dict[str, int]]  # day -> {"answered": n, "refused": n}
    channels: dict[str, int]
    latencies_ms: list[float]  # every question's, ascending (for the median across logs)
    slowest: list[AskedQuestion]  # the `top` slowest, slowest first
    cited: dict[str, int]  # source -> how many questions' answers cited it


def statistics(connection: sqlite3.Connection, since: str = "", top: int = 10) -> LogStatistics:
    """Questions per day, channels, latencies, the slowest questions and citation counts since `since`.

    Three passes over the log. Over all of it, the rows are read in table order (`+asked_at`
    keeps SQLite off the time index, whose row-by-row lookups took three times as long on
    100,000 rows); a `since` reads the recent part through the index.
    """
    after = "asked_at >= ?" if since else "+asked_at >= ?"
    days = connection.execute(
        f"SELECT substr(asked_at, 1, 10) AS day, channel, sum(answered), sum(1 - answered) FROM question_log"
        f" WHERE {after} GROUP BY day, channel ORDER BY day",
        (since,),
    ).fetchall()
    timed = connection.execute(
        f"SELECT latency_ms, seq FROM question_log WHERE {after} ORDER BY latency_ms", (since,)
    ).fetchall()
    slowest = [_row(connection, seq) for _, seq in reversed(timed[-top:])] if top > 0 else []
    # Each cited pair is [document id, source]; a question citing a source twice counts once.
    cited = dict(
        connection.execute(
            "SELECT json_extract(cited_document.value, '$[1]') AS source, count(DISTINCT seq)"
            f" FROM question_log, json_each(question_log.cited) AS cited_document WHERE {after} GROUP BY source",
            (since,),
        ).fetchall()
    )
    return counted(days, timed, slowest, cited)


def counted(
    days: Iterable[Sequence], timed: Sequence[Sequence], slowest: list[AskedQuestion], cited: dict[str, int]
) -> LogStatistics:
    """The statistics of what an engine counted: (day, channel, answered, refused) rows, (latency,
    seq) rows in ascending latency, the slowest questions and citation counts by source."""
    by_day: dict[str, dict[str, int]] = {}
    channels: dict[str, int] = {}
    for day, channel, answered, refused in days:
        counts = by_day.setdefault(day, {"answered": 0, "refused": 0})
        counts["answered"] += int(answered)
        counts["refused"] += int(refused)
        channels[channel] = channels.get(channel, 0) + int(answered) + int(refused)
    ordered = dict(sorted(channels.items(), key=lambda item: -item[1]))
    return LogStatistics(by_day, ordered, [float(row[0]) for row in timed], slowest, cited)


def _row(connection: sqlite3.Connection, seq: int) -> AskedQuestion:
    row = connection.execute(f"SELECT {COLUMNS} FROM question_log WHERE seq = ?", (seq,)).fetchone()
    return from_row(row)
