"""FAISS indexes over unit vectors: exact while small, inverted lists of 8-bit codes above.

The one module that imports faiss. The kinds and their settings were chosen by measurement
(docs/scale.md): on real MiniLM vectors and on cluster-preserving synthetic ones up to 1M,
IVF with 8-bit scalar codes reached recall@10 0.95 in less time, memory and build time than
HNSW, and unlike HNSW it can remove vectors, which an incremental index needs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import faiss

    Index = faiss.Index
else:
    Index = Any  # what the other modules name an index by, without importing faiss

EXACT = "exact"
IVF = "ivf-sq8"
# k-means on 64 training vectors per list for 10 rounds: at 1M vectors and 2,048 lists this
# trained in 92 s on two cores under a load of 25; FAISS asks for at least 39 per list.
TRAINING_ROWS_PER_LIST = 64
TRAINING_ROUNDS = 10
PROBE_CHOICES = (8, 16, 32, 64, 128, 256, 512)
# Below this many queries a search runs on one thread: an OpenMP team on two busy cores cost
# 65 ms per single-query search where one thread took 1 ms (15,000 vectors).
ONE_THREAD_QUERIES = 8


def _faiss() -> ModuleType:
    """FAISS, imported on first use so that `import rag` stays light."""
    import faiss

    return faiss


def list_count(vectors: int) -> int:
    """Inverted lists for an IVF index over this many vectors: about 2·sqrt(n), a power of two.

    At 1M vectors 2,048 lists reached a given recall scanning as few codes as 4,096 did, and
    trained in two thirds of the time.
    """
    wanted = round(math.log2(2 * math.sqrt(max(vectors, 1))))
    # k-means wants 39 training vectors per list: a tiny index (a test's) gets fewer lists.
    affordable = int(math.log2(max(vectors // 39, 1)))
    return 2 ** max(0, min(wanted, affordable))


def training_rows(lists: int) -> int:
    """How many vectors train the lists' centroids."""
    return lists * TRAINING_ROWS_PER_LIST


def new_index(kind: str, dimension: int, lists: int = 0) -> faiss.Index:
    """An empty index of the kind: exact inner product, or untrained IVF lists of 8-bit codes."""
    faiss = _faiss()
    if kind == EXACT:
        # IndexIDMap, not IDMap2: removing one id rebuilt IDMap2's reverse map, 33 ms at 200k.
        return faiss.IndexIDMap(faiss.IndexFlatIP(dimension))
    index: Any = faiss.index_factory(dimension, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = TRAINING_ROUNDS
    # A hash table from id to list position lets one document's chunks be removed in O(chunks).
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


def needs_training(index: faiss.Index) -> bool:
    """Whether the index must see a sample of vectors before it can hold any."""
    return not index.is_trained


def train(index: faiss.Index, sample: np.ndarray) -> None:
    """Fit the IVF centroids and code ranges on a sample of the vectors."""
    _use_threads(os.cpu_count() or 1)
    index.train(np.ascontiguousarray(sample, dtype=np.float32))


def add(index: faiss.Index, row_ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors under their chunk ids (ids must not be in the index already)."""
    if len(row_ids):
        _use_threads(1 if len(row_ids) <= 1024 else os.cpu_count() or 1)
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), _ids(row_ids))


def remove(index: faiss.Index, row_ids: Sequence[int] | np.ndarray) -> int:
    """Remove the vectors of these chunk ids (absent ids are ignored); return how many went."""
    if not len(row_ids):
        return 0
    faiss = _faiss()
    ids = _ids(row_ids)
    # IVF's id hash table takes only an explicit id array; the flat index's scan wants a set.
    selector_type = faiss.IDSelectorBatch if kind_of(index) == EXACT else faiss.IDSelectorArray
    selector = selector_type(len(ids), faiss.swig_ptr(ids))
    removed = int(index.remove_ids(selector))
    del ids  # the selector points into ids: keep them alive until here
    return removed


def search(
    index: faiss.Index, queries: np.ndarray, k: int, allowed: AllowedIds | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, row_ids) of the k best vectors for each query; -1 ids pad.

    allowed: the only chunk ids that may be found, as an id selector: FAISS skips the others
    while it scans, so the k found are the k best of the allowed ones, not what is left of k.
    """
    _use_threads(1 if len(queries) <= ONE_THREAD_QUERIES else os.cpu_count() or 1)
    matrix = np.ascontiguousarray(queries, dtype=np.float32)
    if allowed is None:
        scores, row_ids = index.search(matrix, k)
        return scores, row_ids
    faiss = _faiss()
    bitmap = allowed.bitmap
    selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    if kind_of(index) == IVF:
        # The lists hold fewer allowed vectors: visit more of them, in proportion (all of them
        # when few are allowed: only the allowed codes are scored, so that stays cheap).
        share = max(allowed.count / max(int(index.ntotal), 1), 1e-9)
        probes = min(lists_of(index), math.ceil(probes_of(index) / min(share, 1.0)))
        parameters: Any = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
    else:
        parameters = faiss.SearchParameters(sel=selector)
    scores, row_ids = index.search(matrix, k, params=parameters)
    del bitmap  # the selector points into it: keep it alive until here
    return scores, row_ids


class AllowedIds:
    """Chunk ids as a bitmap (bit i of byte i // 8, little-endian): FAISS's cheapest id selector."""

    def __init__(self, row_ids: np.ndarray) -> None:
        self.count = len(row_ids)
        flags = np.zeros(int(row_ids.max()) + 1 if len(row_ids) else 1, dtype=bool)
        flags[row_ids] = True
        self.bitmap = np.ascontiguousarray(np.packbits(flags, bitorder="little"))


def kind_of(index: faiss.Index) -> str:
    """EXACT or IVF."""
    return IVF if isinstance(index, _faiss().IndexIVF) else EXACT


def lists_of(index: faiss.Index) -> int:
    """The number of inverted lists (0 for an exact index)."""
    return int(_ivf(index).nlist) if kind_of(index) == IVF else 0


def probes_of(index: faiss.Index) -> int:
    """How many lists a search visits (0 for an exact index)."""
    return int(_ivf(index).nprobe) if kind_of(index) == IVF else 0


def set_probes(index: faiss.Index, probes: int) -> None:
    """Visit this many lists per search (saved with the index)."""
    if kind_of(index) == IVF:
        _ivf(index).nprobe = int(probes)


def to_bytes(index: faiss.Index) -> bytes:
    """The index serialized."""
    return bytes(_faiss().serialize_index(index))


def from_bytes(data: bytes) -> faiss.Index:
    """An index from its serialized bytes; ValueError when they are not an index."""
    try:
        # deserialize_index already returns the concrete class; never downcast a temporary.
        return _faiss().deserialize_index(np.frombuffer(data, dtype=np.uint8))
    except RuntimeError as error:
        raise ValueError(str(error)) from error


def memory_bytes(index: faiss.Index) -> int:
    """Bytes the index holds: codes, ids and centroids (its serialized size)."""
    return len(_faiss().serialize_index(index))


def _ivf(index: faiss.Index) -> Any:
    """The index as an IVF one (FAISS's stubs know only the base class)."""
    return index


def _ids(row_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(row_ids, dtype=np.int64)


def _use_threads(count: int) -> None:
    # omp_set_num_threads sets the calling thread's team size only: searches in other threads
    # (the UI's workers) keep their own.
    _faiss().omp_set_num_threads(max(1, count))
