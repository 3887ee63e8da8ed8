"""A PostgreSQL index's upkeep: what `rag optimize` does to the database and what `rag stats` says
of how its vectors are searched (an index folder's are rag/storage/vectors/index.py's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.storage import bulk_load
from rag.storage.database import hnsw, journal
from rag.storage.database.follower import DatabaseVectors, Embed
from rag.storage.engine import VectorSearch
from rag.storage.vectors.recall import PROBE_COUNT, probe_texts, recall_at
from rag.storage.vectors.recall import K as RECALL_K

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


def optimize(store: PostgresStore, embed: Embed, journal_days: float | None = None) -> dict[str, Any]:
    """Prune the vector journal to its last journal_days (None: the default), vacuum, and measure
    HNSW's recall@10 against exact search when the index keeps one: what the index's vectors are,
    for `rag optimize` to report."""
    pruned = store.prune_vector_journal(
        journal_days
    )  # what followers no longer need (a late one builds afresh)
    store.vacuum()
    chunks = store.counts()[1]
    described: dict[str, Any] = {"kind": hnsw.FAISS, "vectors": chunks, **pruned}
    if store.with_connection(hnsw.has_hnsw):
        snippets = probe_texts(store.sample_texts(PROBE_COUNT))
        recall = None
        if snippets:
            queries = embed(snippets)
            _, found = store.dense_search(queries, RECALL_K)
            _, exact = store.exact_search(queries, RECALL_K)
            recall = round(recall_at(found, exact), 3)
        described = {
            "kind": hnsw.HNSW,
            "vectors": chunks,
            "recall@10": recall,
            "recall_queries": len(snippets),
            **pruned,
        }
    return described


def prune_journal(store: PostgresStore, journal_days: float | None = None) -> dict[str, int] | None:
    """Prune the change journal to its last journal_days when this role may (None when it may not:
    a reader's role); what `rag serve` does once a day, beside `rag optimize`."""
    if not store.with_connection(journal.may_prune):
        return None
    return store.prune_vector_journal(journal_days)


def vector_stats(store: PostgresStore, searched: Callable[[], VectorSearch], chosen: str) -> dict[str, Any]:
    """What a PostgreSQL index's vectors are searched with here: this process's FAISS index
    following the database, pgvector's HNSW index, or (neither) a scan of every vector.

    `searched` gives what a search here would ask; `chosen` is Settings.postgres_vectors.
    """
    loading = store.with_connection(bulk_load.unfinished)
    # While a load leaves the HNSW index for its end, every search reads every vector.
    if loading:
        return {"vector_index": "exact", "vector_index_pending": loading}
    vectors = searched()
    if not isinstance(vectors, DatabaseVectors):
        if not store.with_connection(hnsw.has_hnsw):
            return {
                "vector_index": "exact scan: the database keeps no HNSW index (readers follow it with"
                " FAISS; `rag optimize --postgres-vectors hnsw` builds one)"
            }
        if chosen == hnsw.HNSW:
            return {"vector_index": "hnsw"}
        return {"vector_index": "hnsw", "vector_follower": "needs format 3: rag check --repair"}
    described = vectors.describe()
    if described["kind"] == "not built":
        return {"vector_index": "faiss follower (built at the first search)"}
    return {
        "vector_index": f"faiss follower, {described['kind']}",
        "vector_recall@10": described["recall@10"],
        "vector_journal_position": described["journal_position"],
    }
