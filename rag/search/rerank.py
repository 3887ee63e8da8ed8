"""An optional reranking stage: a cross-encoder reorders the best fused passages before answering.

Off by default (no cross-encoder ships offline); `--reranker NAME_OR_PATH` or
`Settings(reranker=...)` turns it on. The search returns `rerank_depth` fused passages, the
cross-encoder scores each against the query, and the best k are kept in its order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from rag.types import Passage


class Reranker(Protocol):
    """Scores passages' texts against a query; higher is more relevant."""

    name: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text."""
        ...


def rerank(query: str, passages: Sequence[Passage], reranker: Reranker, k: int) -> list[Passage]:
    """The k passages the reranker scores best (ties keep the fused order), ranked anew."""
    if not passages:
        return []
    scores = reranker.score(query, [passage.text for passage in passages])
    order = sorted(range(len(passages)), key=lambda index: (-float(scores[index]), index))[:k]
    return [
        replace(passages[index], rank=rank, rerank_score=round(float(scores[index]), 6))
        for rank, index in enumerate(order, start=1)
    ]
