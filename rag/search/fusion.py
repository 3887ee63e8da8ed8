"""Fusion of the dense and lexical candidate lists: reciprocal rank fusion and the learned ranker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

RRF_K = 60
FEATURE_NAMES = ("dense", "sentence", "lexical", "dense_rank", "lexical_rank")
# Columns that come from the embedding model: a per-language dense weight scales these.
DENSE_FEATURES = (0, 1, 3)
# Fit by `python -m eval.fit_fusion` (listwise, weights kept >= 0) on the SciFact train queries
# with an even id and the xquad-dev questions on articles 00-11; held-out numbers on the rest
# are in docs/evaluation.md. Only the direction matters: scores are compared within a query.
LEARNED_WEIGHTS = np.array([0.3872, 0.1516, 0.2753, 0.1859, 0.0], dtype=np.float32)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], rrf_k: int = RRF_K, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Fuse ranked id lists: score(id) = sum over lists of weight / (rrf_k + rank)."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, row_id in enumerate(ranking, start=1):
            fused[row_id] = fused.get(row_id, 0.0) + weight / (rrf_k + rank)
    return fused


def fusion_features(
    row_ids: Sequence[int],
    dense: Mapping[int, float],
    lexical: Mapping[int, float],
    sentence: Mapping[int, float],
) -> np.ndarray:
    """One row of FEATURE_NAMES per candidate: each scaled so that one weight fits every query.

    dense and sentence are cosines (a candidate without a sentence score takes its dense one);
    lexical is bm25 over the query's best bm25; a rank r becomes RRF_K / (RRF_K + r), 0 when absent.
    """
    features = np.zeros((len(row_ids), len(FEATURE_NAMES)), dtype=np.float32)
    best_lexical = max(lexical.values(), default=0.0)
    dense_ranks = _ranks(dense)
    lexical_ranks = _ranks(lexical)
    for row, row_id in enumerate(row_ids):
        cosine = dense.get(row_id, 0.0)
        features[row, 0] = cosine
        features[row, 1] = sentence.get(row_id, cosine)
        if row_id in lexical and best_lexical > 0:
            features[row, 2] = lexical[row_id] / best_lexical
        features[row, 3] = _rank_feature(dense_ranks.get(row_id))
        features[row, 4] = _rank_feature(lexical_ranks.get(row_id))
    return features


def learned_scores(
    features: np.ndarray, weights: np.ndarray | None = None, dense_weight: float = 1.0
) -> np.ndarray:
    """The ranker's score of each feature row; dense_weight scales the embedding model's evidence."""
    used = np.array(LEARNED_WEIGHTS if weights is None else weights, dtype=np.float32)
    used[list(DENSE_FEATURES)] *= dense_weight
    return features @ used


def _ranks(scores: Mapping[int, float]) -> dict[int, int]:
    ordered = sorted(scores, key=lambda row_id: scores[row_id], reverse=True)
    return {row_id: rank for rank, row_id in enumerate(ordered, start=1)}


def _rank_feature(rank: int | None) -> float:
    return 0.0 if rank is None else RRF_K / (RRF_K + rank)
