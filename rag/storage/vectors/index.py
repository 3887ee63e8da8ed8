"""The FAISS index of an index folder: it follows SQLite in O(change), and is derived from it.

In memory, an index knows its mark (vector_journal): the last chunk id and the last vector
change it holds. Following SQLite is reading what changed since: new chunks are added, gone or
replaced ones removed. On disk, vectors.faiss is a base saved at some mark; whoever opens it
catches up from the journal. The writer saves a new base once the changes since the last one
reach a share of the index, and rebuilds from SQLite (retraining, re-measuring recall) when
the index should change kind or has changed a lot since it was trained. A missing, stale or
damaged file is rebuilt from SQLite: nothing in it is ever the only copy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.storage.scope import Scope
from rag.storage.store import Store
from rag.storage.vectors import ann
from rag.storage.vectors.build import BuildInfo, build, due_step, whole_rows
from rag.storage.vectors.journal import (
    VectorMark,
    changes_since,
    current_mark,
    follows,
    lineage,
    sample_ids,
    texts_of,
    vectors_of,
)
from rag.storage.vectors.recall import PROBE_COUNT, probe_texts
from rag.storage.vectors.saved import VECTORS_META_NAME, VECTORS_NAME, read_base, read_meta, write_base
from rag.types import BuildProgress

__all__ = ["VECTORS_META_NAME", "VECTORS_NAME", "VectorIndex"]

Embed = Callable[[Sequence[str]], np.ndarray]


class VectorIndex:
    """Dense search over chunk vectors, kept in step with the store."""

    def __init__(
        self, folder: Path, dimension: int, approximate_above: int, embed: Embed | None = None
    ) -> None:
        self.folder = folder
        self.dimension = dimension
        self.approximate_above = approximate_above
        self._embed = embed  # makes the query-like probes that recall is measured on
        self._index: ann.Index | None = None
        self._mark = VectorMark(-1, 0, 0)
        self._build: BuildInfo | None = None
        self._base_mark: VectorMark | None = None  # the mark of the saved base this follows
        self._pending = 0  # vectors changed since that base
        self._churn = 0  # vectors changed since the build
        self._meta_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        """'exact', 'ivf-sq8' or 'empty'."""
        return self._build.kind if self._index is not None and self._build else "empty"

    def describe(self) -> dict[str, Any]:
        """What the index is, for stats: its kind, size, lists probed and last measured recall.

        An index this process has not loaded is described by its saved record: stats on a
        million chunks need not read 400 MB.
        """
        if self._index is not None and self._build is not None:
            build, vectors, probes = self._build, int(self._index.ntotal), ann.probes_of(self._index)
        else:
            meta = read_meta(self.folder)
            try:
                build, vectors, probes = (
                    BuildInfo.from_dict(meta["build"]),
                    int(meta["count"]),
                    meta["build"]["probes"],
                )
            except (KeyError, TypeError, ValueError):
                return {"kind": "empty"}
        return {
            "kind": build.kind,
            "vectors": vectors,
            "lists": build.lists,
            "probes": probes,
            "recall@10": 1.0 if build.kind == ann.EXACT else build.recall,
            "recall_queries": build.recall_queries,
            "built_at": build.built_at,
        }

    def search(
        self, store: Store, query_vectors: np.ndarray, k: int, scope: Scope | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks (of the scope) for each query vector; -1 ids pad."""
        generation = store.generation()
        # One lock for searching and following: FAISS must not search an index being added to.
        with self._lock:
            index = self._fresh(store, generation)
            if index.ntotal == 0 or (scope is not None and not len(scope.chunk_ids)):
                empty = np.full((len(query_vectors), k), -1, dtype=np.int64)
                return np.zeros(empty.shape, dtype=np.float32), empty
            return ann.search(index, query_vectors, k, None if scope is None else scope.allowed_ids)

    def sync(self, store: Store) -> None:
        """Bring the index up to what is committed: load, catch up, or rebuild as needed."""
        generation = store.generation()
        with self._lock:
            self._fresh(store, generation)

    def _fresh(self, store: Store, generation: int) -> ann.Index:
        if self._index is None or self._mark.generation != generation or not self._meta_unchanged():
            self._follow(store)
        assert self._index is not None
        return self._index

    def after_write(self, store: Store, progress: BuildProgress | None = None) -> None:
        """The writer's step after its commits: save a new base or retrain when due.

        A process that has not loaded the index leaves it alone while nothing is due: its
        changes are in SQLite's journal, and adding one document costs the same at any size.
        """
        with self._lock:
            if self._index is None and self._due_unloaded(store) is None:
                return
            self._follow(store, progress)
            due = due_step(
                self._build,
                self._base_mark is not None,
                self._vector_count(),
                self._churn,
                self._pending,
                self.approximate_above,
            )
            if due == "rebuild":
                self._rebuild(store, progress)
                self._save(store, forget_upto=self._mark.last_change)
            elif due == "save":
                self._save(store, forget_upto=self._base_mark.last_change if self._base_mark else 0)

    def rebuild(self, store: Store, progress: BuildProgress | None = None) -> dict[str, Any]:
        """Build afresh from SQLite (retrain, re-measure recall), save, and forget the journal."""
        with self._lock:
            self._rebuild(store, progress)
            self._save(store, forget_upto=self._mark.last_change)
        return self.describe()

    # -- following SQLite -------------------------------------------------------------------

    def _follow(self, store: Store, progress: BuildProgress | None = None) -> None:
        if self._index is None or self._rebuilt_elsewhere() or not self._catch_up(store):
            self._open(store, progress)

    def _open(self, store: Store, progress: BuildProgress | None = None) -> None:
        base = read_base(self.folder)
        if base is not None and _saved_from(store, base[0]) and self._load(*base) and self._catch_up(store):
            return
        self._rebuild(store, progress)

    def _load(self, meta: dict[str, Any], data: bytes) -> bool:
        """Take a saved base as the index; False when it is not one this index can use."""
        try:
            mark = VectorMark(**meta["mark"])
            build_info = BuildInfo.from_dict(meta["build"])
            index = ann.from_bytes(data)
        except (KeyError, TypeError, ValueError):
            return False  # an older format, or not ours: rebuilt from SQLite
        if index.d != self.dimension or index.ntotal != meta.get("count"):
            return False
        self._index, self._mark, self._build = index, mark, build_info
        self._base_mark, self._pending, self._churn = mark, 0, int(meta.get("churn", 0))
        self._meta_stamp = _stamp(self.folder)
        return True

    def _catch_up(self, store: Store) -> bool:
        """Apply the changes since the mark; False when the journal no longer reaches back to it."""
        with store.snapshot() as connection:
            delta = changes_since(connection, self._mark, self.dimension)
        if delta is None or self._index is None:
            return False
        ann.remove(self._index, delta.gone)
        ann.add(self._index, *whole_rows(delta.added_ids, delta.added_vectors))
        self._mark = delta.mark
        self._pending += delta.size
        self._churn += delta.size
        self._meta_stamp = _stamp(self.folder)
        return True

    def _rebuilt_elsewhere(self) -> bool:
        """True when another process saved a new build: load it rather than follow our own."""
        saved = read_meta(self.folder).get("build")
        return isinstance(saved, dict) and self._build is not None and saved.get("id") != self._build.id

    def _meta_unchanged(self) -> bool:
        return _stamp(self.folder) == self._meta_stamp

    # -- building and saving ----------------------------------------------------------------

    def _rebuild(self, store: Store, progress: BuildProgress | None = None) -> None:
        with store.snapshot() as connection:  # one consistent state for the mark and the vectors
            mark = current_mark(connection)
            index, build_info = build(
                self.dimension,
                store.counts()[1],
                self.approximate_above,
                lambda: store.iter_vectors(self.dimension),
                lambda count: vectors_of(connection, sample_ids(connection, count), self.dimension),
                lambda: self._probes(texts_of(connection, sample_ids(connection, PROBE_COUNT, seed=1))),
                progress,
            )
        self._index, self._mark, self._build = index, mark, build_info
        self._base_mark, self._pending, self._churn = None, int(index.ntotal), 0

    def _probes(self, texts: Sequence[str]) -> np.ndarray | None:
        snippets = probe_texts(texts)
        return self._embed(snippets) if self._embed is not None and snippets else None

    def _due_unloaded(self, store: Store) -> str | None:
        """What is due, judged from the saved base's record and the journal, without loading it."""
        meta = read_meta(self.folder)
        try:
            base_mark = VectorMark(**meta["mark"])
            build_info = BuildInfo.from_dict(meta["build"])
        except (KeyError, TypeError, ValueError):
            return "rebuild"
        if not _saved_from(store, meta):
            return "rebuild"  # rag.sqlite restored, copied or swapped under it
        with store.snapshot() as connection:
            now = current_mark(connection)
            count = store.counts()[1]
        # Chunks added plus vectors gone since the base: an upper bound of the changes to replay.
        pending = now.last_chunk - base_mark.last_chunk + now.last_change - base_mark.last_change
        churn = int(meta.get("churn", 0)) + pending
        return due_step(build_info, True, count, churn, pending, self.approximate_above)

    def _save(self, store: Store, forget_upto: int) -> None:
        assert self._index is not None and self._build is not None
        with store.snapshot() as connection:
            saved_from = lineage(connection, self._mark)
        meta = {
            "generation": self._mark.generation,
            "dimension": self.dimension,
            "count": int(self._index.ntotal),
            "mark": self._mark.to_dict(),
            "build": self._build.to_dict(),
            "churn": self._churn,
            "lineage": saved_from,
        }
        write_base(self.folder, ann.to_bytes(self._index), meta)
        self._base_mark, self._pending = self._mark, 0
        self._meta_stamp = _stamp(self.folder)
        if forget_upto:
            # After a checkpoint only the changes before the previous base go: a reader that
            # follows the journal can always catch up, without reloading the whole file.
            store.prune_vector_changes(forget_upto)

    def _vector_count(self) -> int:
        return int(self._index.ntotal) if self._index is not None else 0


def _saved_from(store: Store, meta: dict[str, Any]) -> bool:
    """Whether the saved base was saved from this database (a base saved before lineage was
    recorded is trusted, as it was)."""
    saved = meta.get("lineage")
    if not isinstance(saved, dict):
        return True
    try:
        mark = VectorMark(**meta["mark"])
    except (KeyError, TypeError):
        return False
    with store.snapshot() as connection:
        return follows(connection, mark, saved)


def _stamp(folder: Path) -> tuple[int, int] | None:
    """When and how big vectors.json is: a cheap sign that another process saved the index."""
    try:
        status = os.stat(folder / VECTORS_META_NAME)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
