"""An index's tables in its database schema: whether they are there, making them for a new index,
bringing an older format up to this code's, the manifest, and the change counter.

Making and upgrading hold SCHEMA_LOCK in their transaction: two writers opening one empty schema at
once make it once, and an upgrade never runs beside another.
"""

from __future__ import annotations

from typing import Any

from rag.storage.database import hnsw, schema
from rag.storage.database.schema import FORMAT_VERSION, SCHEMA_LOCK
from rag.storage.records import refuse_other_settings


def present(connection: Any) -> bool:
    """Whether the index's own tables are in the first schema of the search path."""
    row = connection.execute(
        # In the first schema of the search path only: the tables of an index in a later
        # schema belong to another index (several may share a database, a schema each).
        "SELECT count(to_regclass(format('%%I.%%I', current_schema(), name)))"
        " FROM unnest(%s::text[]) AS name",
        (list(schema.OWN_TABLES),),
    ).fetchone()
    return row is not None and row[0] == len(schema.OWN_TABLES)


def create(connection: Any, statements: Any, vectors: str, location: str) -> None:
    """Make the tables of `statements` (the DDL with its vector dimension), upgrading an older index."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        connection.execute(statements)
        found = schema.format_in(connection)
        schema.refuse_newer(location, found)
        schema.upgrade(connection, found)
        fresh = (
            not found
            and not connection.execute("SELECT 1 FROM manifest WHERE key = %s", (hnsw.KEY,)).fetchone()
        )
        if fresh:  # a new index: kept for the vector search its maker chose
            hnsw.record(connection, vectors)
            connection.execute(
                hnsw.VECTOR_INDEX if vectors == hnsw.HNSW else "DROP INDEX IF EXISTS chunks_vector"
            )


def upgrade(connection: Any, location: str) -> int:
    """Bring an older index up to this code's format, manifest too, in one transaction; return its old one."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        found = schema.format_in(connection)  # another writer may have upgraded it meanwhile
        schema.refuse_newer(location, found)
        schema.upgrade(connection, found)
    return found


def manifest(connection: Any) -> dict[str, str]:
    """All manifest entries."""
    return dict(connection.execute("SELECT key, value FROM manifest").fetchall())


def check_or_write_manifest(connection: Any, expected: dict[str, str], location: str) -> None:
    """Record the manifest of a new index, or fail if an existing one differs."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        current = manifest(connection)
        if not current.get("format_version"):
            connection.cursor().executemany(
                "INSERT INTO manifest (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                list({"format_version": str(FORMAT_VERSION), **expected}.items()),
            )
            return
    # An older format is read as it is (a writer upgrades it first: upgrade); a newer one is refused.
    schema.refuse_newer(location, schema.parse_format(current["format_version"]))
    refuse_other_settings(current, expected, f"the index in {location}", "another database or schema")


def generation(connection: Any) -> int:
    """A counter that grows with every committed change (a sequence: writers never wait on it)."""
    row = connection.execute("SELECT last_value, is_called FROM generation").fetchone()
    return int(row[0]) if row and row[1] else 0
