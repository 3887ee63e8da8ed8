"""An index's upkeep, either engine: what `rag stats` says of it, what `rag optimize` does to it
(an index folder's vector index is rag/storage/vectors/index.py's; a PostgreSQL index's database
is pruned, vacuumed and measured here) and `rag check` (integrity.py, database_integrity.py).

The facade hands itself over as the `Kept` protocol, with what only it holds: the reader's scope,
the recorded dimension, what a search here would ask, the backfill (ingest's, which storage may
not import), and forgetting its vector index after a repair.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.errors import SettingsError
from rag.settings import Settings
from rag.storage import bulk_load
from rag.storage.database import hnsw, journal
from rag.storage.database.follower import DatabaseVectors, Embed
from rag.storage.engine import DocumentStore, VectorSearch
from rag.storage.integrity import IndexCheck, check_index
from rag.storage.lock import write_lock
from rag.storage.opened import Embeds
from rag.storage.records import DocumentInfo
from rag.storage.scope import Scope
from rag.storage.store import Store
from rag.storage.vectors.index import VectorIndex
from rag.storage.vectors.recall import PROBE_COUNT, probe_texts, recall_at
from rag.storage.vectors.recall import K as RECALL_K
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


class Kept(Protocol):
    """What upkeep needs of an opened index (a `KnowledgeBase`)."""

    @property
    def url(self) -> str | None: ...

    @property
    def folder(self) -> Path: ...

    @property
    def location(self) -> str: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def embedder(self) -> Embeds: ...

    @property
    def model_name(self) -> str: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def vectors(self) -> VectorIndex: ...

    def sqlite_store(self) -> Store: ...

    def engine_store(self) -> Store | PostgresStore: ...

    def documents(self) -> list[DocumentInfo]: ...


def stats(
    index: Kept, scope: Scope | None, dimension: int | None, searched: Callable[[], VectorSearch]
) -> dict[str, Any]:
    """Counts, model, chunker settings and sizes on disk; within a reader's scope, counts of what
    they may read. `dimension` is the recorded one (None before the first vector)."""
    documents, chunks = index.store.counts(scope)
    if scope is not None:
        languages: dict[str, int] = {}
        for info in index.documents():
            languages[info.language] = languages.get(info.language, 0) + 1
        return {
            "documents": documents,
            "chunks": chunks,
            "languages": languages,
            "embedding_model": index.model_name,
            "dimension": dimension,
            "chunk_size": index.settings.chunk_size,
            "chunk_overlap": index.settings.chunk_overlap,
        }
    return {
        "index": index.location,
        "documents": documents,
        "chunks": chunks,
        "languages": index.store.language_counts(),
        "embedding_model": index.model_name,
        "embedding_backend": getattr(index.embedder, "backend", "custom"),
        "dimension": dimension,
        "chunk_size": index.settings.chunk_size,
        "chunk_overlap": index.settings.chunk_overlap,
        **_vector_stats(index, chunks, dimension, searched),
        # Ingested by a version before sentence vectors: `rag optimize` embeds them once.
        "documents_without_sentence_vectors": len(index.store.documents_without_sentence_vectors()),
        "generation": index.store.generation(),
        "size_bytes": _size_bytes(index),
    }


def _size_bytes(index: Kept) -> int:
    if index.url is not None:
        return _database(index).size_bytes()
    return sum(path.stat().st_size for path in index.folder.iterdir() if path.is_file())


def _vector_stats(
    index: Kept, chunks: int, dimension: int | None, searched: Callable[[], VectorSearch]
) -> dict[str, Any]:
    """The vector index's kind and, when it is approximate, its lists and last measured recall."""
    if not chunks or dimension is None:
        return {"vector_index": "empty"}
    if index.url is not None:
        return vector_stats(_database(index), searched, index.settings.postgres_vectors)
    described = index.vectors.describe()
    if described["kind"] == "empty":  # nothing saved yet: build it to say what it is
        index.vectors.sync(index.sqlite_store())
        described = index.vectors.describe()
    stats = {"vector_index": described["kind"], "vector_recall@10": described["recall@10"]}
    if described["lists"]:
        stats |= {
            "vector_lists": described["lists"],
            "vector_probes": described["probes"],
            "vector_recall_queries": described["recall_queries"],
            "vector_built_at": described["built_at"],
        }
    return stats


def optimize_index(
    index: Kept,
    progress: BuildProgress | None,
    backfill: Callable[[], dict[str, int]],
    searched: Callable[[], VectorSearch],
    postgres_vectors: str | None,
) -> dict[str, Any]:
    """`KnowledgeBase.optimize`: an index folder's vector index rebuilt and its full text compacted
    under the write lock, a PostgreSQL index's database kept (below); backfill() first, either way."""
    if index.url is not None:
        return _optimize_database(index, progress, backfill, searched, postgres_vectors)
    if postgres_vectors is not None:
        raise SettingsError(
            f"{index.location} is an index folder: --postgres-vectors is for a PostgreSQL index"
        )
    store = index.sqlite_store()  # a missing index is a one-line error before any lock is taken
    with write_lock(index.folder):
        filled = backfill()
        described = index.vectors.rebuild(store, progress)
        store.optimize_text_index()
    return described | filled


def _optimize_database(
    index: Kept,
    progress: BuildProgress | None,
    backfill: Callable[[], dict[str, int]],
    searched: Callable[[], VectorSearch],
    vectors: str | None,
) -> dict[str, Any]:
    """PostgreSQL: build or drop the HNSW index when asked, fill in sentence vectors and page
    positions, vacuum, measure HNSW's recall@10 against exact search when the index keeps one,
    and build the reader-side FAISS index when it is the one searched (saved on this machine,
    so the next process here starts from it)."""
    store = _database(index)
    store.upgrade()  # optimize writes: an older format is brought up to date first
    if vectors is not None:
        bulk_load.keep_index_for(store, vectors, progress)
    filled = backfill()
    described = optimize(store, index.embedder.embed, index.settings.journal_days)
    following = searched()
    if isinstance(following, DatabaseVectors):  # what readers search: built (and saved) here now
        following.sync(progress)
        described["follower"] = following.describe()
    return described | filled


def check(index: Kept, repair: bool, forget_vectors: Callable[[], None]) -> IndexCheck:
    """`KnowledgeBase.check`: every part of the index checked; repair rebuilds what is derived (full
    text, vectors), a folder's under its write lock, its vector index forgotten and built again."""
    if index.url is not None:
        from rag.storage.database_integrity import check_database  # psycopg: only for a database URL

        return check_database(_database(index), repair, index.embedder.embed if repair else None)
    if not repair:
        return check_index(index.folder)
    with write_lock(index.folder):
        result = check_index(index.folder, repair=True, embed=index.embedder.embed)
        if result.repaired:
            forget_vectors()
            index.vectors.rebuild(index.sqlite_store())
    return result


def _database(index: Kept) -> PostgresStore:
    """The PostgreSQL store of an index opened from a database URL."""
    store = index.engine_store()
    assert not isinstance(store, Store)
    return store


def optimize(store: PostgresStore, embed: Embed, journal_days: float | None = None) -> dict[str, Any]:
    """Prune the vector journal to its last journal_days (None: the default), vacuum, and measure
    HNSW's recall@10 against exact search when the index keeps one: what the index's vectors are,
    for `rag optimize` to report."""
    # What followers no longer need (a late one builds afresh).
    pruned = store.prune_vector_journal(journal_days)
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
