"""Recall measurement: query-like probes, exact neighbours over batches, probe tuning."""

from __future__ import annotations

import numpy as np

from rag.storage.vectors import ann, recall


def test_probes_are_short_runs_of_consecutive_words_of_the_texts() -> None:
    texts = ["one two three four five six seven eight nine ten", "short text", ""]
    probes = recall.probe_texts(texts, words=4)
    assert len(probes) == 2 and probes[1] == "short text"
    assert len(probes[0].split()) == 4 and probes[0] in texts[0]


def test_exact_neighbours_over_batches_equal_one_full_search() -> None:
    generator = np.random.default_rng(1)
    vectors = generator.standard_normal((500, 16)).astype(np.float32)
    queries = generator.standard_normal((9, 16)).astype(np.float32)
    collector = recall.ExactNeighbours(queries, k=5)
    for start in range(0, 500, 64):
        collector.update(np.arange(start, min(start + 64, 500)), vectors[start : start + 64])
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    assert (np.sort(collector.ids, axis=1) == np.sort(expected, axis=1)).all()


def test_recall_counts_the_true_neighbours_found() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, -1], [5, 6, 7, 8]])
    assert recall.recall_at(found, truth) == 6 / 8


def test_tuning_keeps_the_fewest_probed_lists_that_reach_the_target() -> None:
    generator = np.random.default_rng(2)
    centres = generator.standard_normal((40, 32))
    vectors = centres[generator.integers(0, 40, 6_000)] + 0.3 * generator.standard_normal((6_000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    index = ann.new_index(ann.IVF, 32, 128)
    ann.train(index, vectors)
    ann.add(index, np.arange(6_000), vectors)
    queries = vectors[:200] + 0.05
    collector = recall.ExactNeighbours(queries)
    collector.update(np.arange(6_000), vectors)
    probes, measured = recall.tune_probes(index, queries, collector.ids)
    assert measured >= recall.RECALL_TARGET and ann.probes_of(index) == probes
    fewer = ann.PROBE_CHOICES[ann.PROBE_CHOICES.index(probes) - 1] if probes > ann.PROBE_CHOICES[0] else 0
    if fewer:
        ann.set_probes(index, fewer)
        assert recall.recall_at(ann.search(index, queries, 10)[1], collector.ids) < recall.RECALL_TARGET
