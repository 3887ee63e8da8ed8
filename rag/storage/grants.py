"""Per-document read grants set through the API, and the rows a reader's scope is found from.

A grant narrows who may read one document (by source, so it survives the document being
ingested again); the collection's rules (rag/access/policy.py) narrow it further. The table has
its own schema step, `add_grants_table`, so other tables can be added beside it independently.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

from rag.storage.exported import ExportedGrant

SCHEMA = """CREATE TABLE IF NOT EXISTS document_grants (
    source TEXT PRIMARY KEY,
    read TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL DEFAULT (datetime('now'))
)"""


def add_grants_table(connection: sqlite3.Connection) -> None:
    """Schema step (issue 23): the document_grants table, in an index of any format version."""
    connection.execute(SCHEMA)


def has_grants_table(connection: sqlite3.Connection) -> bool:
    """Whether the table exists (a read-only index made before it has none: no grants)."""
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'document_grants'"
    ).fetchone()
    return row is not None


def document_rows(connection: sqlite3.Connection) -> Iterator[tuple[int, str, frozenset[str] | None]]:
    """(document key, source, groups granted or None) of every stored document."""
    if has_grants_table(connection):
        query = "SELECT d.key, d.source, g.read FROM documents d LEFT JOIN document_grants g ON g.source = d.source"
    else:
        query = "SELECT key, source, NULL FROM documents"
    for key, source, read in connection.execute(query):
        yield int(key), str(source), None if read is None else frozenset(json.loads(read))


def set_grant(connection: sqlite3.Connection, source: str, read: frozenset[str] | None, set_by: str) -> None:
    """Narrow a document's readers to `read`; None removes the grant."""
    if read is None:
        connection.execute("DELETE FROM document_grants WHERE source = ?", (source,))
        return
    connection.execute(
        "INSERT OR REPLACE INTO document_grants (source, read, set_by) VALUES (?, ?, ?)",
        (source, json.dumps(sorted(read)), set_by),
    )


def all_grants(connection: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """source -> groups of every grant (a grant may name a source not stored yet)."""
    if not has_grants_table(connection):
        return {}
    rows = connection.execute("SELECT source, read FROM document_grants")
    return {str(source): frozenset(json.loads(read)) for source, read in rows}


def grant_of(connection: sqlite3.Connection, source: str) -> frozenset[str] | None:
    """The groups a document's grant names, or None when it has none."""
    if not has_grants_table(connection):
        return None
    row = connection.execute("SELECT read FROM document_grants WHERE source = ?", (source,)).fetchone()
    return None if row is None else frozenset(json.loads(row[0]))


def exported_grants(connection: sqlite3.Connection) -> list[ExportedGrant]:
    """Every grant as stored, with who set it and when (`rag copy`), by source."""
    if not has_grants_table(connection):
        return []
    rows = connection.execute("SELECT source, read, set_by, set_at FROM document_grants ORDER BY source")
    return [
        ExportedGrant(str(source), frozenset(json.loads(read)), str(set_by), str(set_at))
        for source, read, set_by, set_at in rows
    ]


def import_grants(connection: sqlite3.Connection, grants: Sequence[ExportedGrant]) -> None:
    """Write grants read out of another index, keeping who set each and when."""
    connection.executemany(
        "INSERT OR REPLACE INTO document_grants (source, read, set_by, set_at) VALUES (?, ?, ?, ?)",
        [(grant.source, json.dumps(sorted(grant.read)), grant.set_by, grant.set_at) for grant in grants],
    )
