"""Whether a PostgreSQL index keeps pgvector's HNSW index over its chunk vectors.

Readers of an index of format 3 search their own FAISS index, caught up from the change journal
(database/follower.py), and never touch HNSW. Yet every chunk a writer inserts costs an HNSW graph
search in the database (most of a local write's time), and at a million chunks the graph took
1,556 s to build beside 1,760 s for the rows (docs/scale.md). So an index records in its manifest
which vector search it is kept for: `faiss` (no HNSW index in the database: what a new index is
made with by default) or `hnsw` (pgvector's index kept up to date at every write: what an index made
before the key existed has). `rag optimize --postgres-vectors hnsw|faiss` builds or drops it (bulk_load.keep_index_for).

A reader that searches through pgvector (RAG_POSTGRES_VECTORS=hnsw, or a role that may not read
the journal) over an index kept for `faiss` gets exact answers from a scan of every vector: right,
and slower as the index grows; `rag stats` says so.
"""

from __future__ import annotations

from typing import Any

KEY = "vector_index"  # the manifest entry
HNSW = "hnsw"
FAISS = "faiss"
VECTOR_INDEX = "CREATE INDEX IF NOT EXISTS chunks_vector ON chunks USING hnsw (vector vector_ip_ops)"


def kept_for(connection: Any) -> str:
    """The vector search the index is kept for: `hnsw` (also when the manifest does not say, as in
    an index made before the entry existed) or `faiss`."""
    row = connection.execute("SELECT value FROM manifest WHERE key = %s", (KEY,)).fetchone()
    return FAISS if row and row[0] == FAISS else HNSW


def has_hnsw(connection: Any) -> bool:
    """Whether the index is kept with pgvector's HNSW index (built, or left for a load's end)."""
    return kept_for(connection) == HNSW


def record(connection: Any, kept: str) -> None:
    """Write which vector search the index is kept for, in the caller's transaction."""
    connection.execute(
        "INSERT INTO manifest (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (KEY, kept),
    )
