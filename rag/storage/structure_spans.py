"""The structure spans of each document (title, byline, post authors, dates), found at ingest.

They are a function of the stored text, so an index made before this table existed gets them
the first time it is opened for writing (one pass over its documents), and a read-only one of
that age simply has none.
"""

from __future__ import annotations

import json
import sqlite3

from rag.structure import find_structure
from rag.types import StructureSpan

SCHEMA = """
CREATE TABLE IF NOT EXISTS structure_spans (
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS structure_spans_document ON structure_spans(document_key);
"""
_TABLE_SKIP = ("columns", "delimiter")  # a .csv/.tsv: its rows are records, not prose with a byline


def insert(
    connection: sqlite3.Connection, document_key: int | None, text: str, metadata: dict[str, object]
) -> None:
    """Find and store a document's structure spans (inside the caller's transaction)."""
    if all(key in metadata for key in _TABLE_SKIP):
        return
    connection.executemany(
        "INSERT INTO structure_spans (document_key, kind, start, end) VALUES (?, ?, ?, ?)",
        [(document_key, span.kind, span.start, span.end) for span in find_structure(text)],
    )


def load(connection: sqlite3.Connection, document_key: int) -> tuple[StructureSpan, ...]:
    """A document's structure spans, ascending by start; () for an index made before the table."""
    try:
        rows = connection.execute(
            "SELECT kind, start, end FROM structure_spans WHERE document_key = ? ORDER BY start",
            (document_key,),
        ).fetchall()
    except sqlite3.OperationalError:  # a read-only index made before the table existed
        return ()
    return tuple(map(StructureSpan._make, rows))


def create_or_fill(connection: sqlite3.Connection) -> None:
    """Create the table; when it is new in an index that has documents, find their spans now."""
    existed = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'structure_spans'"
    ).fetchone()
    connection.executescript(SCHEMA)
    if existed:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        keys = [row[0] for row in connection.execute("SELECT key FROM documents")]
        for key in keys:  # one text in memory at a time: documents can be large
            text, metadata = connection.execute(
                "SELECT text, metadata FROM documents WHERE key = ?", (key,)
            ).fetchone()
            insert(connection, key, text, _json_object(metadata))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
