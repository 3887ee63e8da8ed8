"""What changed in the stored vectors since a FAISS index last followed SQLite.

Chunk ids only grow (AUTOINCREMENT), and the vector_changes table journals every chunk whose
vector went or was replaced, in the same transaction. So a mark of (last chunk id, last change
seq) says exactly what an index holds, and catching up reads only what changed since: the new
chunks, and the journalled ids. Each function here runs on a connection inside one read
snapshot (Store.snapshot), so a mark always matches the vectors read with it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

PRUNED_KEY = "vector_changes_pruned"
_IDS_PER_QUERY = 500


@dataclass(frozen=True)
class VectorMark:
    """How far an index has followed SQLite: every chunk up to last_chunk, every change up to last_change."""

    generation: int
    last_chunk: int
    last_change: int

    def to_dict(self) -> dict[str, int]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class VectorDelta:
    """What to apply to an index at one mark to bring it to the next."""

    mark: VectorMark
    gone: np.ndarray  # ids whose vectors went or were replaced: remove them first
    added_ids: np.ndarray  # then add these (new chunks, and the replaced ones again)
    added_vectors: np.ndarray

    @property
    def size(self) -> int:
        """How many vectors the delta touches."""
        return len(self.gone) + len(self.added_ids)


def has_journal(connection: sqlite3.Connection) -> bool:
    """False for a read-only index made before vector_changes existed."""
    row = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'vector_changes'").fetchone()
    return row is not None


def current_mark(connection: sqlite3.Connection) -> VectorMark:
    """The mark of everything committed."""
    generation = connection.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()
    last_chunk = connection.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
    last_change = 0
    if has_journal(connection):
        last_change = connection.execute("SELECT coalesce(max(seq), 0) FROM vector_changes").fetchone()[0]
    return VectorMark(int(generation[0]) if generation else 0, int(last_chunk), int(last_change))


def changes_since(connection: sqlite3.Connection, mark: VectorMark, dimension: int) -> VectorDelta | None:
    """The delta from mark to now, or None when the journal no longer reaches back to mark."""
    if not has_journal(connection) or _pruned_upto(connection) > mark.last_change:
        return None
    now = current_mark(connection)
    changed = connection.execute(
        "SELECT DISTINCT chunk_id FROM vector_changes WHERE seq > ? AND chunk_id <= ?",
        (mark.last_change, mark.last_chunk),
    )
    gone = np.fromiter((row[0] for row in changed), dtype=np.int64)
    replaced = [vectors for vectors in _vectors_of(connection, gone.tolist(), dimension)]
    fresh = connection.execute("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id", (mark.last_chunk,))
    batches = [*replaced, _decode(fresh.fetchall(), dimension)]
    added_ids = np.concatenate([ids for ids, _ in batches])
    added_vectors = np.concatenate([vectors for _, vectors in batches]).reshape(-1, dimension)
    next_mark = VectorMark(
        now.generation, max(now.last_chunk, mark.last_chunk), max(now.last_change, mark.last_change)
    )
    return VectorDelta(next_mark, gone, added_ids, added_vectors)


def lineage(connection: sqlite3.Connection, mark: VectorMark) -> dict[str, str | int | None]:
    """What this database held at the mark: the last chunk's vector digest and the last change's chunk.

    A saved base records it, so that a base is never followed from a database it was not saved
    from (rag.sqlite restored from a backup, copied or swapped): marks alone would match, since
    such a database reuses chunk ids and change numbers.
    """
    row = connection.execute("SELECT vector FROM chunks WHERE id = ?", (mark.last_chunk,)).fetchone()
    change = None
    if mark.last_change and has_journal(connection):
        found = connection.execute(
            "SELECT chunk_id FROM vector_changes WHERE seq = ?", (mark.last_change,)
        ).fetchone()
        change = None if found is None else int(found[0])
    return {"last_chunk_vector": _digest(row[0]) if row else None, "last_change_chunk": change}


def follows(connection: sqlite3.Connection, mark: VectorMark, saved: dict[str, object]) -> bool:
    """Whether this database is the one a base with this mark and lineage was saved from (or its later self)."""
    if mark.last_chunk:
        row = connection.execute("SELECT vector FROM chunks WHERE id = ?", (mark.last_chunk,)).fetchone()
        expected = saved.get("last_chunk_vector")
        changed = (row is None and expected is not None) or (row is not None and _digest(row[0]) != expected)
        if changed and not _journaled_after(connection, mark):
            # That id holds another vector, or is gone, and no change since the mark says so:
            # another database, or this one restored from a backup (and perhaps refilled).
            return False
    if mark.last_change and has_journal(connection):
        found = connection.execute(
            "SELECT chunk_id FROM vector_changes WHERE seq = ?", (mark.last_change,)
        ).fetchone()
        if found is not None and saved.get("last_change_chunk") not in (None, int(found[0])):
            return False
        if found is None and _pruned_upto(connection) < mark.last_change:
            return False  # the base has seen changes this database never made
    return True


def _journaled_after(connection: sqlite3.Connection, mark: VectorMark) -> bool:
    if not has_journal(connection):
        return False
    row = connection.execute(
        "SELECT 1 FROM vector_changes WHERE chunk_id = ? AND seq > ?", (mark.last_chunk, mark.last_change)
    ).fetchone()
    return row is not None


def _digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()[:16]


def prune(connection: sqlite3.Connection, upto: int) -> None:
    """Forget the changes up to seq `upto` (an index saved past them no longer needs them)."""
    connection.execute("DELETE FROM vector_changes WHERE seq <= ?", (upto,))
    connection.execute(
        "INSERT INTO manifest VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        " WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        (PRUNED_KEY, str(upto)),
    )


def sample_ids(connection: sqlite3.Connection, count: int, seed: int = 0) -> list[int]:
    """Up to `count` chunk ids drawn at random (all of them when there are fewer)."""
    ids = np.fromiter((row[0] for row in connection.execute("SELECT id FROM chunks")), dtype=np.int64)
    if len(ids) > count:
        ids = np.sort(np.random.default_rng(seed).choice(ids, count, replace=False))
    return ids.tolist()


def vectors_of(connection: sqlite3.Connection, ids: Sequence[int], dimension: int) -> np.ndarray:
    """The stored vectors of these chunk ids (rows of absent ids are left out)."""
    parts = [vectors for _, vectors in _vectors_of(connection, ids, dimension)]
    return np.concatenate(parts) if parts else np.zeros((0, dimension), dtype=np.float32)


def texts_of(connection: sqlite3.Connection, ids: Sequence[int]) -> list[str]:
    """What each of these chunks was embedded from (its search text, else its text)."""
    texts: list[str] = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        part = list(ids[start : start + _IDS_PER_QUERY])
        marks = ",".join("?" * len(part))
        rows = connection.execute(
            f"SELECT coalesce(search_text, text) FROM chunks WHERE id IN ({marks})", part
        )
        texts.extend(row[0] for row in rows)
    return texts


def _vectors_of(
    connection: sqlite3.Connection, ids: Sequence[int], dimension: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(ids), _IDS_PER_QUERY):
        part = list(ids[start : start + _IDS_PER_QUERY])
        marks = ",".join("?" * len(part))
        rows = connection.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks}) ORDER BY id", part)
        yield _decode(rows.fetchall(), dimension)


def _decode(rows: list[tuple[int, bytes]], dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of rows; a vector of the wrong length becomes NaNs, which are never indexed."""
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    vectors = np.full((len(rows), dimension), np.nan, dtype=np.float32)
    for position, (_, blob) in enumerate(rows):
        if len(blob) == dimension * 4:
            vectors[position] = np.frombuffer(blob, dtype=np.float32)
    return ids, vectors


def _pruned_upto(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM manifest WHERE key = ?", (PRUNED_KEY,)).fetchone()
    return int(row[0]) if row else 0
