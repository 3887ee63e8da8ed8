"""Per-document read grants in a PostgreSQL index (format 2): the folder's document_grants table
(rag/storage/grants.py), with the groups as a jsonb array.

A grant is kept by source, so it survives the document being ingested again, and may name a source
not stored yet (`rag sync` narrows what it is about to add). Every function takes the store's
connection and runs in the caller's transaction when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rag.storage.exported import ExportedGrant


def set_grants(connection: Any, sources: Sequence[str], read: frozenset[str] | None, set_by: str) -> None:
    """Narrow who may read these sources to `read`; None lifts their grants."""
    if read is None:
        connection.execute("DELETE FROM document_grants WHERE source = ANY(%s)", (list(sources),))
        return
    connection.cursor().executemany(
        "INSERT INTO document_grants (source, read, set_by) VALUES (%s, %s::jsonb, %s)"
        " ON CONFLICT (source) DO UPDATE SET read = EXCLUDED.read, set_by = EXCLUDED.set_by, set_at = now()",
        [(source, json.dumps(sorted(read)), set_by) for source in sources],
    )


def exported_grants(connection: Any) -> list[ExportedGrant]:
    """Every grant as stored, with who set it and when (`rag copy`; the time as the folder keeps
    it: UTC, to the second), by source."""
    rows = connection.execute(
        "SELECT source, read, set_by, to_char(set_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        " FROM document_grants ORDER BY source"
    )
    return [ExportedGrant(str(source), frozenset(read), str(by), str(at)) for source, read, by, at in rows]


def import_grants(connection: Any, grants: Sequence[ExportedGrant]) -> None:
    """Write grants read out of another index, keeping who set each and when (a UTC time)."""
    connection.cursor().executemany(
        "INSERT INTO document_grants (source, read, set_by, set_at)"
        " VALUES (%s, %s::jsonb, %s, %s::timestamp AT TIME ZONE 'UTC') ON CONFLICT (source) DO UPDATE"
        " SET read = EXCLUDED.read, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at",
        [(grant.source, json.dumps(sorted(grant.read)), grant.set_by, grant.set_at) for grant in grants],
    )


def grant_of(connection: Any, source: str) -> frozenset[str] | None:
    """The groups a document's grant names, or None when it has none."""
    row = connection.execute("SELECT read FROM document_grants WHERE source = %s", (source,)).fetchone()
    return None if row is None else frozenset(row[0])


def all_grants(connection: Any) -> dict[str, frozenset[str]]:
    """source -> groups of every grant, stored documents or not."""
    return {
        str(source): frozenset(read)
        for source, read in connection.execute("SELECT source, read FROM document_grants")
    }


def has_grants(connection: Any) -> bool:
    """Whether any grant is set."""
    return connection.execute("SELECT 1 FROM document_grants LIMIT 1").fetchone() is not None


def document_rows(connection: Any, with_grants: bool) -> list[tuple[int, str, frozenset[str] | None]]:
    """(document key, source, groups granted or None) of every stored document (without_grants:
    an index of format 1, which has none)."""
    if not with_grants:
        return [
            (int(key), str(source), None)
            for key, source in connection.execute("SELECT key, source FROM documents")
        ]
    rows = connection.execute(
        "SELECT d.key, d.source, g.read FROM documents d LEFT JOIN document_grants g ON g.source = d.source"
    )
    return [(int(key), str(source), None if read is None else frozenset(read)) for key, source, read in rows]
