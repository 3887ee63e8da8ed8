"""What `rag optimize` (rag/storage/upkeep.py) does to a PostgreSQL index's tables: VACUUM the rows
that replaced and removed documents left behind, and prune the change journal (format 4)."""

from __future__ import annotations

from typing import Any

from rag.storage.database import journal

VACUUMED = ("documents", "chunks", "chunk_terms", "document_terms", "sentence_vectors")


def vacuum(connection: Any) -> None:
    """Reclaim the dead rows of VACUUMED and refresh the planner's statistics of them."""
    for table in VACUUMED:
        # Quoted as psycopg's sql.Identifier would; the names are this module's own, never a caller's text.
        connection.execute(f'VACUUM (ANALYZE) "{table}"')


def prune_journal(connection: Any, keep_days: float) -> dict[str, int]:
    """Remove the journal's rows older than keep_days and vacuum it; return its floor and how many went."""
    pruned = journal.prune(connection, keep_days)
    connection.execute("VACUUM (ANALYZE) vector_journal")
    return pruned
