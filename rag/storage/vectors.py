"""The FAISS index: derived from SQLite, saved atomically with a checksum, rebuilt when missing,
stale or damaged."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import StorageError
from rag.storage.store import Store

if TYPE_CHECKING:
    import faiss

VECTORS_NAME = "vectors.faiss"
VECTORS_META_NAME = "vectors.json"
HNSW_NEIGHBOURS = 32
UNIT_TOLERANCE = 1e-3


def _faiss() -> ModuleType:
    """FAISS, imported on first use so that `import rag` stays light."""
    import faiss

    return faiss


def build_index(dimension: int, count: int, approximate_above: int) -> faiss.Index:
    """An exact inner-product index while small, HNSW above the threshold."""
    if count > approximate_above:
        hnsw: Any = _faiss().IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, _faiss().METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 128
        inner: faiss.Index = hnsw
    else:
        inner = _faiss().IndexFlatIP(dimension)
    return _faiss().IndexIDMap2(inner)


def index_kind(index: faiss.Index) -> str:
    """'exact' or 'hnsw', for stats."""
    inner = _faiss().downcast_index(index.index) if hasattr(index, "index") else index
    return "hnsw" if isinstance(inner, _faiss().IndexHNSWFlat) else "exact"


class VectorIndex:
    """Dense search over chunk vectors, kept in step with the store's generation."""

    def __init__(self, folder: Path, dimension: int, approximate_above: int) -> None:
        self.folder = folder
        self.dimension = dimension
        self.approximate_above = approximate_above
        self._index: faiss.Index | None = None
        self._generation = -1
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        """'exact', 'hnsw' or 'empty'."""
        return index_kind(self._index) if self._index is not None else "empty"

    def search(self, store: Store, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks for each query vector; -1 ids pad."""
        index = self.sync(store)
        if index.ntotal == 0:
            empty = np.full((len(query_vectors), k), -1, dtype=np.int64)
            return np.zeros(empty.shape, dtype=np.float32), empty
        scores, row_ids = index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)
        return scores, row_ids

    def sync(self, store: Store, save: bool = False) -> faiss.Index:
        """Return an index matching the store's generation, loading or rebuilding as needed."""
        generation = store.generation()
        with self._lock:
            if self._index is not None and self._generation == generation:
                return self._index
            index = self._load(generation)
            if index is None:
                index = self._rebuild(store)
                if save:
                    self._save(index, generation)
            self._index, self._generation = index, generation
            return index

    def save(self, store: Store) -> None:
        """Bring the index up to date and write it to disk."""
        self.sync(store, save=True)

    def _load(self, generation: int) -> faiss.Index | None:
        """The saved index if it is whole and current; None (rebuild from SQLite) otherwise."""
        meta = read_meta(self.folder)
        if meta.get("generation") != generation or meta.get("dimension") != self.dimension:
            return None
        data = read_checked(self.folder, meta)
        if data is None:
            return None
        try:
            index = _faiss().deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except (RuntimeError, ValueError):
            return None
        if index.d != self.dimension or index.ntotal != meta.get("count"):
            return None
        return index

    def _rebuild(self, store: Store) -> faiss.Index:
        _, chunk_count = store.counts()
        index = build_index(self.dimension, chunk_count, self.approximate_above)
        for row_ids, vectors in store.iter_vectors(self.dimension):
            # A damaged stored vector (huge or NaN) would win every search: leave it out;
            # `rag check` reports it and `--repair` embeds its chunk again.
            with np.errstate(invalid="ignore", over="ignore"):
                norms = np.linalg.norm(vectors, axis=1)
            whole = (np.abs(norms - 1.0) <= UNIT_TOLERANCE) | (norms == 0.0)
            index.add_with_ids(vectors[whole], row_ids[whole])
        return index

    def _save(self, index: faiss.Index, generation: int) -> None:
        data = _faiss().serialize_index(index).tobytes()
        meta = {
            "generation": generation,
            "dimension": self.dimension,
            "count": int(index.ntotal),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        try:
            _atomic_write(self.folder / VECTORS_NAME, data)
            _atomic_write(self.folder / VECTORS_META_NAME, json.dumps(meta).encode())
        except OSError as error:
            raise StorageError(
                f"could not write {self.folder / VECTORS_NAME} ({error.strerror}); the documents are"
                " saved and the vector file is rebuilt next time: free some space"
            ) from error

    def rebuild_file(self, store: Store) -> int:
        """Rebuild the vector file from SQLite and save it; return how many vectors it holds."""
        with self._lock:
            generation = store.generation()
            index = self._rebuild(store)
            self._save(index, generation)
            self._index, self._generation = index, generation
            return int(index.ntotal)


def read_meta(folder: Path) -> dict[str, Any]:
    """vectors.json: the generation, dimension, count and checksum of vectors.faiss ({} if unreadable)."""
    try:
        meta = json.loads((folder / VECTORS_META_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def read_checked(folder: Path, meta: dict[str, Any]) -> bytes | None:
    """The bytes of vectors.faiss when their sha256 is the recorded one, else None."""
    try:
        data = (folder / VECTORS_NAME).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == meta.get("sha256") else None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
