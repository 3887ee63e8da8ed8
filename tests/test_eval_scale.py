"""eval.scale: clustered synthetic vectors, the index measured against exact search, one-document adds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval import scale


def clustered_stand_in(count: int = 3_000, dimension: int = 48, clusters: int = 12) -> np.ndarray:
    """Vectors with cluster structure, standing in for real ones (no model in a fast test)."""
    generator = np.random.default_rng(0)
    centres = generator.standard_normal((clusters, dimension))
    rows = centres[generator.integers(0, clusters, count)] + 0.4 * generator.standard_normal(
        (count, dimension)
    )
    return scale.unit_rows(rows)


def test_clustered_vectors_keep_the_clusters_of_the_real_ones() -> None:
    real = clustered_stand_in()
    groups = scale.fit_clusters(real, clusters=12)
    synthetic = scale.clustered_vectors(groups, 5_000)
    assert synthetic.shape == (5_000, 48)
    assert np.allclose(np.linalg.norm(synthetic, axis=1), 1.0, atol=1e-5)
    # Each synthetic vector lies near a cluster mean, as real ones do; uniform random ones do not.
    means = scale.unit_rows(np.stack([mean for mean, _ in groups]))
    nearest = (synthetic @ means.T).max(axis=1)
    uniform = scale.unit_rows(np.random.default_rng(2).standard_normal((5_000, 48)))
    assert np.median(nearest) > 0.8 > np.median((uniform @ means.T).max(axis=1))


def test_exact_neighbours_match_a_full_sort() -> None:
    vectors = clustered_stand_in(1_000)
    queries = vectors[:7] + 0.01
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert (scale.exact_neighbours(vectors, queries, batch=128) == expected).all()


def test_measured_index_reports_recall_speed_memory_and_edit_costs() -> None:
    vectors = clustered_stand_in()
    queries = clustered_stand_in(400)[::-1] + 0.0
    exact = scale.measure_index(vectors, queries, approximate_above=10**9, data="stand-in")
    assert exact["index"] == "exact" and exact["recall@10"] == 1.0
    approximate = scale.measure_index(vectors, queries, approximate_above=1_000, data="stand-in")
    assert approximate["index"] == "ivf-sq8" and approximate["lists"] > approximate["probes"] > 0
    assert 0.9 <= approximate["recall@10"] <= 1.0
    assert approximate["memory_mb"] < exact["memory_mb"]  # 8-bit codes, not 32-bit floats
    assert approximate["add_document_ms"] >= 0 and approximate["remove_document_ms"] >= 0
    table = scale.markdown(
        {
            "approximate_above": 1_000,
            "queries": 400,
            "index": [exact, approximate],
            "add_one_document": [
                {"chunks": 10, "index": "exact", "add_one_document_ms": 1.0, "add_and_search_ms": 2.0}
            ],
            "add_one_document_ratio": 1.0,
        }
    )
    assert "| 3,000 | stand-in | ivf-sq8 |" in table


def test_add_one_document_is_timed_in_an_open_index(tmp_path: Path) -> None:
    result = scale.add_one_document(300, tmp_path, runs=3)
    assert result["chunks"] == 300 and result["index"] == "exact"
    assert result["add_one_document_ms"] > 0 and result["add_and_search_ms"] > 0
