"""eval.fit_fusion: the listwise ranker learns which feature tells relevant chunks apart."""

from __future__ import annotations

import numpy as np
import pytest

from eval.fit_fusion import Query, fit, is_early_article, is_even_id, metrics
from rag.search import FUSION_FEATURES

SENTENCE = FUSION_FEATURES.index("sentence")


def _queries(count: int = 40, seed: int = 3) -> list[Query]:
    """Queries whose relevant document stands out only by its sentence feature."""
    generator = np.random.default_rng(seed)
    queries = []
    for number in range(count):
        features = generator.uniform(0, 1, size=(20, len(FUSION_FEATURES))).astype(np.float32)
        relevant = int(generator.integers(20))
        features[relevant, SENTENCE] = 1.5
        sources = tuple(f"doc{index}" for index in range(20))
        queries.append(Query("fit" if number % 2 else "held-out", sources, features, {f"doc{relevant}": 1.0}))
    return queries


def test_fit_puts_its_weight_on_the_feature_that_separates_relevant_chunks() -> None:
    queries = _queries()
    weights = fit([query for query in queries if query.split == "fit"])
    assert int(np.argmax(weights)) == SENTENCE
    held_out = [query for query in queries if query.split == "held-out"]
    assert metrics(held_out, lambda rows: rows @ weights)["hit@1"] == pytest.approx(1.0)


def test_a_dropped_feature_gets_no_weight() -> None:
    weights = fit(_queries(), dropped=SENTENCE)
    assert weights[SENTENCE] == 0.0


def test_metrics_rank_documents_by_their_best_chunk() -> None:
    query = Query("fit", ("a", "b", "a"), np.array([[0.1], [0.5], [0.9]], dtype=np.float32), {"a": 1.0})
    assert metrics([query], lambda rows: rows[:, 0]) == {"ndcg@10": 1.0, "recall@100": 1.0, "hit@1": 1.0}


def test_splits_are_even_scifact_ids_and_early_xquad_articles() -> None:
    assert is_even_id("12", "") and not is_even_id("13", "")
    assert is_early_article("", "11_3") and not is_early_article("", "12_0")
