"""Building a vector index: its kind by size, damaged vectors left out, and when to save or retrain."""

from __future__ import annotations

import numpy as np

from rag.storage import build_vector_index
from rag.storage.vectors.build import BuildInfo, due_step, whole_rows


def clustered(count: int, dimension: int = 32) -> np.ndarray:
    generator = np.random.default_rng(0)
    centres = generator.standard_normal((20, dimension))
    rows = centres[generator.integers(0, 20, count)] + 0.3 * generator.standard_normal((count, dimension))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_small_indexes_are_exact_and_large_ones_approximate_with_measured_recall() -> None:
    vectors = clustered(3_000)
    exact = build_vector_index(vectors, approximate_above=3_000)
    assert exact.info.kind == "exact" and exact.info.recall is None and exact.info.vectors == 3_000
    approximate = build_vector_index(vectors, approximate_above=2_999, probe_queries=vectors[:100] + 0.02)
    info = approximate.info
    assert info.kind == "ivf-sq8" and 0 < info.probes < info.lists and info.recall_queries == 100
    assert info.recall is not None and info.recall >= 0.96
    assert BuildInfo.from_dict(info.to_dict()) == info


def test_damaged_vectors_never_enter_the_index() -> None:
    vectors = clustered(4)
    vectors[1] *= 1e30
    vectors[2] = np.nan
    row_ids, kept = whole_rows(np.arange(4), vectors)
    assert row_ids.tolist() == [0, 3] and len(kept) == 2


def test_saving_retraining_and_switching_kind_fall_due_at_their_thresholds() -> None:
    exact = BuildInfo("a", "exact", 1_000)
    approximate = BuildInfo("b", "ivf-sq8", 100_000, lists=512, probes=64)
    threshold = 50_000
    assert due_step(None, False, 10, 0, 0, threshold) == "rebuild"
    assert due_step(exact, False, 1_000, 0, 0, threshold) == "save"  # no saved base yet
    assert due_step(exact, True, 1_000, 10, 10, threshold) is None  # 1% changed: the journal holds it
    assert due_step(exact, True, 1_000, 60, 60, threshold) == "save"  # 6%: a new base
    assert due_step(exact, True, 50_001, 0, 0, threshold) == "rebuild"  # past the threshold
    assert due_step(approximate, True, 40_000, 0, 0, threshold) is None  # below it, not far below
    assert due_step(approximate, True, 24_000, 0, 0, threshold) == "rebuild"  # back to exact
    assert due_step(approximate, True, 150_000, 200_001, 0, threshold) == "rebuild"  # retrain
