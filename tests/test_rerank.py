"""rag/search/rerank.py: an optional cross-encoder reorders the best fused passages."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.embedding import CrossEncoderScorer, bundled_model_path

TEXTS = [
    ("lighthouse.txt", "The lighthouse keeper of Pemba island paints the tower white every spring."),
    ("cloves.txt", "The Zanzibar spice harbour shipped 4,200 tonnes of cloves in 2021."),
    ("cranes.txt", "Dockworkers in the Zanzibar harbour use blue cranes to load the ships."),
]


class ByLength:
    """A stand-in reranker: longer passages first, so its effect on the order is known."""

    name = "by-length"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        self.calls.append((query, len(texts)))
        return np.array([len(text) for text in texts], dtype=np.float32)


def test_the_reranker_orders_the_fused_passages_and_keeps_k(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem(source, text) for source, text in TEXTS])
    reranker = ByLength()
    fake_base.reranker = reranker
    passages = fake_base.search("Zanzibar harbour", k=2)
    assert [len(passage.text) for passage in passages] == sorted(
        (len(text) for _, text in TEXTS), reverse=True
    )[:2]
    assert [passage.rank for passage in passages] == [1, 2]
    assert all(passage.rerank_score is not None for passage in passages)
    assert reranker.calls == [("Zanzibar harbour", 3)]  # every fused passage (up to rerank_depth) scored


def test_without_a_reranker_the_fused_order_stands(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem(source, text) for source, text in TEXTS])
    assert fake_base.reranker is None
    assert all(passage.rerank_score is None for passage in fake_base.search("Zanzibar harbour"))


def test_a_reranker_that_cannot_load_is_one_clear_error(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    fake_base.add_texts([rag.TextItem(source, text) for source, text in TEXTS])
    fake_base.reranker = CrossEncoderScorer(str(tmp_path / "no-such-model"))
    with pytest.raises(rag.ModelLoadError, match="could not load reranker"):
        fake_base.search("Zanzibar harbour")


@pytest.mark.model
def test_a_real_cross_encoder_built_from_the_bundled_weights_reorders_by_its_scores(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    from sentence_transformers import CrossEncoder

    # A real CrossEncoder class over the bundled MiniLM weights with a fresh (untrained) head:
    # plumbing and speed only, its order says nothing about quality.
    folder = tmp_path / "minilm-cross-encoder"
    CrossEncoder(str(bundled_model_path()), num_labels=1, device="cpu").save(str(folder))
    fake_base.add_texts([rag.TextItem(source, text) for source, text in TEXTS])
    scorer = CrossEncoderScorer(str(folder))
    fake_base.reranker = scorer
    started = time.perf_counter()
    passages = fake_base.search("Who paints the lighthouse?", k=3)
    assert time.perf_counter() - started < 60
    scores = scorer.score("Who paints the lighthouse?", [passage.text for passage in passages])
    assert [passage.rerank_score for passage in passages] == pytest.approx(
        sorted(scores.tolist(), reverse=True), abs=1e-4
    )
    assert rag.Settings(reranker=str(folder)).reranker == str(folder)
