"""Loading many documents into PostgreSQL at once: the rows first, pgvector's HNSW index after them.

Inserting a vector into an HNSW graph costs most of a local write (pgvector searches the graph
for its neighbours on every insert); building the graph once over all the rows, with memory for
it and parallel workers, costs a fraction of that. So `rag copy` into a database, and an ingest
into a database that holds no chunk yet, drop the index, load the rows and build it at the end.

Crash safety: the index is dropped in the same transaction that writes a `bulk_load` manifest
entry saying what is loading, and built in the same transaction that deletes it, so the index is
missing exactly while the entry is there: a killed load leaves the entry, which `rag check`
reports (and `--repair` clears by building the index), and which the next load of that index
(`rag copy --resume`, or an ingest) takes over and finishes. A session advisory lock marks the
loader that is alive: a second writer meanwhile inserts rows as usual and leaves the build to it.
Readers search exactly (every vector read) while the index is missing: right answers, slower.

An index kept for readers' own FAISS indexes (database/hnsw.py) has no HNSW index at all: its
loads are plain inserts. keep_index_for() builds or drops the index when that choice changes.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from rag.errors import SettingsError
from rag.storage.database import hnsw, schema
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore

MARKER = "bulk_load"  # the manifest entry present while the HNSW index is left for the end of a load
# Per vector in pgvector's in-memory graph: the float32 numbers plus neighbour lists and headers
# (m = 16: 32 neighbours on layer 0), rounded up; the graph is built in memory when it fits.
GRAPH_BYTES_OVERHEAD = 512
MIN_BUILD_MEMORY_MB = 64
# The most this session asks for (RAG_POSTGRES_BUILD_MEMORY_MB overrides: a server with less
# memory to spare, or one with more and an index past a million chunks).
MAX_BUILD_MEMORY_MB = 2048
PROGRESS_SECONDS = 1.0
_LOADER_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('verbatim bulk load ' || current_schema(), 0))"
_LOADER_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('verbatim bulk load ' || current_schema(), 0))"


def start(store: PostgresStore, what: str) -> bool:
    """Leave the HNSW index for the end of this load when the index holds no chunk yet, or when an
    earlier load of it did not finish (this one takes it over); True when finish() must build it.
    False (rows go through the index as usual) when another live loader has it or chunks exist."""
    return bool(store.with_connection(lambda connection: _start(connection, what)))


def _start(connection: Any, what: str) -> bool:
    if not hnsw.has_hnsw(connection):
        return False  # an index kept for readers' FAISS indexes has no HNSW index to leave for the end
    # The common case, a live index with chunks: decided without a lock, so a write into it never
    # takes the table lock DROP INDEX needs (which would wait for readers and block them).
    if not unfinished(connection) and connection.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
        return False
    if not connection.execute(_LOADER_LOCK).fetchone()[0]:
        return False  # another process is loading: its finish() builds the index
    try:
        with connection.transaction():
            # Dropping first locks the table: no writer adds a chunk between the look and the drop.
            connection.execute("DROP INDEX IF EXISTS chunks_vector")
            taken_over = connection.execute("SELECT 1 FROM manifest WHERE key = %s", (MARKER,)).fetchone()
            if not taken_over and connection.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
                raise _KeepTheIndex  # rows exist and no load is unfinished: the drop is rolled back
            connection.execute(
                "INSERT INTO manifest (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (MARKER, what),
            )
            return True
    except _KeepTheIndex:
        connection.execute(_LOADER_UNLOCK)
        return False


class _KeepTheIndex(Exception):
    """Raised inside start()'s transaction to roll its DROP INDEX back."""


def finish(store: PostgresStore, progress: BuildProgress | None = None) -> None:
    """Build the HNSW index over the loaded rows and clear the load's manifest entry, in one
    transaction; progress hears of the vectors added to the graph."""
    store.with_connection(lambda connection: _finish(connection, store, progress))


def _finish(connection: Any, store: PostgresStore, progress: BuildProgress | None) -> None:
    try:
        with connection.transaction():
            build_vector_index(connection, store, progress)
            connection.execute("DELETE FROM manifest WHERE key = %s", (MARKER,))
            connection.execute("SELECT nextval('generation')")
    finally:
        connection.execute(_LOADER_UNLOCK)


def let_go(store: PostgresStore) -> None:
    """Give up a load that failed before its end: the manifest entry stays (the index is still
    missing) and the next load of this index, in this process or another, takes it over."""
    store.with_connection(lambda connection: connection.execute(_LOADER_UNLOCK))


def unfinished(connection: Any) -> str:
    """What an unfinished (or running) load says it is loading, or "" when none is."""
    row = connection.execute("SELECT value FROM manifest WHERE key = %s", (MARKER,)).fetchone()
    return str(row[0]) if row else ""


def build_vector_index(connection: Any, store: PostgresStore | None, progress: BuildProgress | None) -> None:
    """CREATE the HNSW index inside the caller's transaction, with memory for its graph and parallel
    workers; while it builds, a thread of `store` (its own connection) reports its progress."""
    chunks, dimension = connection.execute(
        "SELECT (SELECT count(*) FROM chunks), (SELECT atttypmod FROM pg_attribute"
        " WHERE attrelid = 'chunks'::regclass AND attname = 'vector')"
    ).fetchone()
    connection.execute(
        "SELECT set_config('maintenance_work_mem', %s, true)", (f"{build_memory_mb(chunks, dimension)}MB",)
    )
    connection.execute(
        "SELECT set_config('max_parallel_maintenance_workers', %s, true)", (str(parallel_workers()),)
    )
    watcher = _Progress(store, int(chunks), progress) if store is not None and progress else None
    if watcher is not None:
        watcher.start()
    try:
        connection.execute(hnsw.VECTOR_INDEX)
    finally:
        if watcher is not None:
            watcher.stop()
    if progress is not None:
        progress(int(chunks), int(chunks), "vectors indexed")


def build_memory_mb(chunks: int, dimension: int) -> int:
    """maintenance_work_mem for an HNSW build over this many vectors: the whole graph, within a cap."""
    needed = chunks * (4 * max(dimension, 1) + GRAPH_BYTES_OVERHEAD) // (1024 * 1024) + 1
    cap = int(os.environ.get("RAG_POSTGRES_BUILD_MEMORY_MB", MAX_BUILD_MEMORY_MB))
    return max(MIN_BUILD_MEMORY_MB, min(needed, cap))


def parallel_workers() -> int:
    """Workers besides the building process: one per further core of this machine (the server's
    own max_parallel_workers caps them)."""
    return max(0, min(7, (os.cpu_count() or 1) - 1))


class _Progress:
    """Polls pg_stat_progress_create_index from another connection while the index builds."""

    def __init__(self, store: PostgresStore, chunks: int, progress: BuildProgress) -> None:
        self.store, self.chunks, self.progress = store, chunks, progress
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="hnsw-build-progress", daemon=True)

    def start(self) -> None:
        """Begin polling."""
        self.thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread (it closes its connection)."""
        self.done.set()
        self.thread.join()

    def _run(self) -> None:
        try:
            while not self.done.wait(PROGRESS_SECONDS):
                row = self.store.with_connection(
                    lambda connection: connection.execute(
                        "SELECT tuples_done FROM pg_stat_progress_create_index"
                        " WHERE relid = to_regclass('chunks')"
                    ).fetchone()
                )
                if row is not None:
                    self.progress(min(int(row[0] or 0), self.chunks), self.chunks, "vectors indexed")
        except Exception:  # noqa: BLE001 - progress is a courtesy: the build goes on without it
            pass
        finally:
            self.store.close()


def keep_index_for(store: PostgresStore, kept: str, progress: BuildProgress | None = None) -> bool:
    """Build (`hnsw`) or drop (`faiss`) the HNSW index and record the choice, in one transaction;
    True when anything changed. Dropping needs the change journal (format 3) readers follow."""
    if kept not in (hnsw.HNSW, hnsw.FAISS):
        raise SettingsError(f"the vector search an index is kept for is hnsw or faiss, not {kept!r}")

    def change(connection: Any) -> bool:
        with connection.transaction():
            if kept == hnsw.FAISS and schema.format_in(connection) < schema.JOURNAL_FORMAT:
                raise SettingsError(
                    f"{store.location} keeps no change journal for readers' FAISS indexes (format"
                    f" {schema.format_in(connection)}): run `rag check --repair --index {store.location}` first"
                )
            if unfinished(connection):
                raise SettingsError(
                    f"a load of {store.location} is running or did not finish: finish it first"
                    " (`rag copy --resume`, or `rag check --repair`)"
                )
            exists = connection.execute("SELECT to_regclass('chunks_vector') IS NOT NULL").fetchone()[0]
            if hnsw.kept_for(connection) == kept and exists == (kept == hnsw.HNSW):
                return False
            if kept == hnsw.HNSW:
                connection.execute("DROP INDEX IF EXISTS chunks_vector")  # an invalid one is built again
                build_vector_index(connection, store, progress)
            else:
                connection.execute("DROP INDEX IF EXISTS chunks_vector")
            hnsw.record(connection, kept)
            connection.execute("SELECT nextval('generation')")
            return True

    return bool(store.with_connection(change))
