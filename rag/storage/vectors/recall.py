"""How much an approximate index misses: recall@10 against exact search, on query-like probes.

Stored chunk vectors make poor probes: each one sits on the data, and on the SciFact, XQuAD
and docs chunks they measured recall 0.988 where 1,000 real questions got 0.940 (IVF, 128
lists, 32 probed). Six consecutive words of a stored chunk, embedded like a question, measured
0.939, and within 0.01 of the real questions from 16 to 128 probed lists; so the facade embeds
such snippets, and the index is tuned and reported on them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from rag.storage.vectors import ann

K = 10
PROBE_COUNT = 300
PROBE_WORDS = 6
# The smallest number of probed lists whose recall reaches this is kept: above the 0.95
# promised, so that sampling error (about ±0.01 on 300 probes) does not take it under.
RECALL_TARGET = 0.96


def probe_texts(texts: Sequence[str], words: int = PROBE_WORDS, seed: int = 0) -> list[str]:
    """A run of a few consecutive words from each text, as short as a typed question."""
    chooser = random.Random(seed)
    snippets = []
    for text in texts:
        tokens = text.split()
        if not tokens:
            continue
        start = chooser.randrange(max(1, len(tokens) - words + 1))
        snippets.append(" ".join(tokens[start : start + words]))
    return snippets


class ExactNeighbours:
    """The ids of the k nearest vectors to each query, by exact search over streamed batches."""

    def __init__(self, queries: np.ndarray, k: int = K) -> None:
        self.queries = np.ascontiguousarray(queries, dtype=np.float32)
        self.k = k
        self._scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        self.ids = np.full((len(queries), k), -1, dtype=np.int64)

    def update(self, row_ids: np.ndarray, vectors: np.ndarray) -> None:
        """Take one more batch of (row_ids, vectors) into account."""
        if not len(row_ids):
            return
        scores = np.concatenate([self._scores, self.queries @ vectors.T], axis=1)
        ids = np.concatenate([self.ids, np.broadcast_to(row_ids, (len(self.queries), len(row_ids)))], axis=1)
        best = np.argpartition(-scores, self.k - 1, axis=1)[:, : self.k]
        self._scores = np.take_along_axis(scores, best, axis=1)
        self.ids = np.take_along_axis(ids, best, axis=1)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true neighbours found (padding ids ignored)."""
    expected = sum(int((row >= 0).sum()) for row in truth)
    if not expected:
        return 1.0
    hits = sum(
        len(set(got[got >= 0].tolist()) & set(want[want >= 0].tolist()))
        for got, want in zip(found, truth, strict=True)
    )
    return hits / expected


def tune_probes(index: ann.Index, queries: np.ndarray, truth: np.ndarray) -> tuple[int, float]:
    """Set the fewest probed lists reaching RECALL_TARGET (or the most tried); return it and its recall."""
    probes, recall = 0, 1.0
    lists = ann.lists_of(index)
    for probes in [choice for choice in ann.PROBE_CHOICES if choice < lists] + [lists]:
        ann.set_probes(index, probes)
        recall = recall_at(ann.search(index, queries, K)[1], truth)
        if recall >= RECALL_TARGET:
            break
    return probes, recall
