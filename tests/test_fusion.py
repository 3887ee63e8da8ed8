"""The fusion of dense and lexical candidates: rank fusion, feature rows and the learned ranker."""

from __future__ import annotations

import numpy as np
import pytest

from rag.search.fusion import (
    FEATURE_NAMES,
    LEARNED_WEIGHTS,
    fusion_features,
    learned_scores,
    reciprocal_rank_fusion,
)


def test_rank_fusion_puts_the_id_both_lists_agree_on_first() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 4, 1]], rrf_k=60)
    assert max(fused, key=fused.__getitem__) == 1
    assert fused[1] == pytest.approx(1 / 61 + 1 / 63)


def test_features_scale_bm25_by_the_best_and_ranks_into_zero_to_one() -> None:
    rows = fusion_features([7, 8], {7: 0.9, 8: 0.4}, {8: 12.0, 7: 3.0}, {7: 0.95})
    by_name = [dict(zip(FEATURE_NAMES, row.tolist(), strict=True)) for row in rows]
    assert by_name[0]["lexical"] == pytest.approx(0.25)
    assert by_name[1]["lexical"] == pytest.approx(1.0)
    assert by_name[0]["dense_rank"] == pytest.approx(60 / 61)
    assert by_name[1]["lexical_rank"] == pytest.approx(60 / 61)
    assert by_name[0]["sentence"] == pytest.approx(0.95)


def test_candidate_without_a_sentence_score_takes_its_dense_score() -> None:
    rows = fusion_features([5], {5: 0.6}, {}, {})
    assert rows[0, FEATURE_NAMES.index("sentence")] == pytest.approx(0.6)


def test_candidate_missing_from_the_lexical_list_has_no_lexical_evidence() -> None:
    rows = fusion_features([1, 2], {1: 0.5, 2: 0.4}, {1: 4.0}, {})
    assert rows[1, FEATURE_NAMES.index("lexical")] == 0.0
    assert rows[1, FEATURE_NAMES.index("lexical_rank")] == 0.0


def test_dense_weight_zero_leaves_only_the_lexical_evidence() -> None:
    rows = fusion_features([1, 2], {1: 0.9, 2: 0.2}, {2: 9.0}, {1: 0.95})
    lexical_only = learned_scores(rows, dense_weight=0.0)
    assert lexical_only[0] == 0.0
    assert lexical_only[1] > 0.0


def test_every_feature_raises_the_score_it_is_given() -> None:
    assert np.all(LEARNED_WEIGHTS >= 0), "more evidence must never rank a passage lower"
    assert learned_scores(np.ones((1, len(FEATURE_NAMES)), dtype=np.float32))[0] > 0
