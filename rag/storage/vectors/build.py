"""Building a FAISS index from stored vectors: its kind by size, IVF training, measured recall."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rag.storage.vectors import ann
from rag.storage.vectors.recall import ExactNeighbours, tune_probes
from rag.types import BuildProgress

UNIT_TOLERANCE = 1e-3
# A new base is saved once the vectors changed since the last one reach this share of the index
# (so catching up from a base never replays more than it), and the IVF lists are trained anew
# once the vectors added or removed since training reach this many times the trained count.
CHECKPOINT_SHARE = 0.05
RETRAIN_CHURN = 2.0

Batches = Iterable[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class BuildInfo:
    """How an index was built, and its recall@10 against exact search when it is approximate."""

    id: str
    kind: str
    vectors: int
    lists: int = 0
    probes: int = 0
    recall: float | None = None  # None: exact search, recall 1 by construction
    recall_queries: int = 0
    seconds: float = 0.0
    built_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildInfo:
        """The inverse of to_dict; ValueError when fields are missing or wrong."""
        try:
            return cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a build record: {error}") from error


def kind_for(count: int, approximate_above: int) -> str:
    """Exact search up to the threshold, IVF above it."""
    return ann.IVF if count > approximate_above else ann.EXACT


def due_step(
    build_info: BuildInfo | None, has_base: bool, count: int, churn: int, pending: int, approximate_above: int
) -> str | None:
    """'rebuild' when an index should change kind or be retrained, 'save' for a new base, else None."""
    if build_info is None:
        return "rebuild"
    if build_info.kind == ann.EXACT:
        if kind_for(count, approximate_above) == ann.IVF:
            return "rebuild"
    # Back to exact search well below the threshold only, so an index near it does not flip.
    elif count * 2 < approximate_above or churn > RETRAIN_CHURN * max(build_info.vectors, 1):
        return "rebuild"
    if not has_base or pending >= CHECKPOINT_SHARE * count:
        return "save"
    return None


def whole_rows(row_ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose vector is a unit vector (or zero): a damaged one would win every search.

    `rag check` reports the others and `--repair` embeds their chunks again.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(vectors, axis=1)
    whole = (np.abs(norms - 1.0) <= UNIT_TOLERANCE) | (norms == 0.0)
    return row_ids[whole], vectors[whole]


def build(
    dimension: int,
    count: int,
    approximate_above: int,
    batches: Callable[[], Batches],
    training_sample: Callable[[int], np.ndarray],
    probes: Callable[[], np.ndarray | None],
    progress: BuildProgress | None = None,
) -> tuple[ann.Index, BuildInfo]:
    """An index of the kind for `count` vectors, filled from batches; an IVF one is tuned on probes."""
    started = time.perf_counter()
    report = progress or (lambda done, total, note: None)
    kind = kind_for(count, approximate_above)
    lists = ann.list_count(count) if kind == ann.IVF else 0
    index = ann.new_index(kind, dimension, lists)
    queries = None
    if kind == ann.IVF:
        report(0, count, f"training {lists:,} lists")
        ann.train(index, training_sample(ann.training_rows(lists)))
        queries = probes()
    truth = ExactNeighbours(queries) if queries is not None and len(queries) else None
    done = 0
    for row_ids, vectors in batches():
        row_ids, vectors = whole_rows(row_ids, vectors)
        ann.add(index, row_ids, vectors)
        if truth is not None:
            truth.update(row_ids, vectors)
        done += len(row_ids)
        report(done, max(count, done), "adding vectors")
    info = BuildInfo(uuid.uuid4().hex, kind, int(index.ntotal), lists)
    if truth is not None and queries is not None:
        report(done, max(count, done), "measuring recall")
        probed, recall = tune_probes(index, queries, truth.ids)
        info = BuildInfo(info.id, kind, info.vectors, lists, probed, round(recall, 4), len(queries))
    elif kind == ann.IVF:
        ann.set_probes(index, max(ann.PROBE_CHOICES))  # nothing to measure on: probe widely
        info = BuildInfo(info.id, kind, info.vectors, lists, ann.probes_of(index))
    seconds = round(time.perf_counter() - started, 2)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return index, BuildInfo(**{**info.to_dict(), "seconds": seconds, "built_at": stamp})


@dataclass
class BuiltIndex:
    """An index built over vectors in memory, with how it was built: what benchmarks measure."""

    index: Any
    info: BuildInfo

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k best vectors for each query."""
        return ann.search(self.index, queries, k)

    def add(self, row_ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids."""
        ann.add(self.index, row_ids, vectors)

    def remove(self, row_ids: np.ndarray) -> int:
        """Remove the vectors of these ids; return how many went."""
        return ann.remove(self.index, row_ids)

    @property
    def memory_bytes(self) -> int:
        """What the index holds in memory (and on disk)."""
        return ann.memory_bytes(self.index)


def build_vector_index(
    vectors: np.ndarray,
    approximate_above: int,
    probe_queries: np.ndarray | None = None,
    progress: BuildProgress | None = None,
    batch: int = 50_000,
) -> BuiltIndex:
    """Build the index Verbatim would use for these unit vectors (ids are row numbers).

    An approximate one is tuned and measured on probe_queries, as the product does on query-like
    snippets of its chunks.
    """
    count, dimension = vectors.shape

    def batches() -> Batches:
        for start in range(0, count, batch):
            stop = min(start + batch, count)
            yield np.arange(start, stop, dtype=np.int64), vectors[start:stop]

    def sample(size: int) -> np.ndarray:
        if size >= count:
            return vectors
        return vectors[np.sort(np.random.default_rng(0).choice(count, size, replace=False))]

    index, info = build(dimension, count, approximate_above, batches, sample, lambda: probe_queries, progress)
    return BuiltIndex(index, info)
