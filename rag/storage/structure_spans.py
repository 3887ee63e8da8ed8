"""The structure spans of each document (title, byline, post authors, dates), found at ingest.

They are a function of the stored text, so an index made before this table existed, or by an
older structure finder (the manifest's structure_version), gets them the first time it is
opened for writing (schema.create_or_upgrade); a read-only one keeps what it has.
"""

from __future__ import annotations

import json
import sqlite3

from rag.language.structure import find_structure
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
    connection.executemany(
        "INSERT INTO structure_spans (document_key, kind, start, end) VALUES (?, ?, ?, ?)",
        [(document_key, span.kind, span.start, span.end) for span in spans_of(text, metadata)],
    )


def spans_of(text: str, metadata: dict[str, object]) -> list[StructureSpan]:
    """A document's structure spans; none for a table, whose rows are records, not prose."""
    if all(key in metadata for key in _TABLE_SKIP):
        return []
    return list(find_structure(text))


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


def insert_stored(connection: sqlite3.Connection, document_key: int) -> None:
    """Find and store the structure spans of a document already in the index."""
    text, metadata = connection.execute(
        "SELECT text, metadata FROM documents WHERE key = ?", (document_key,)
    ).fetchone()
    found = json.loads(metadata)
    insert(connection, document_key, text, found if isinstance(found, dict) else {})
