"""Sentence evidence: a chunk scores by its best stored sentence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.search.sentence_evidence import best_sentence_similarity


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


STORED = {"Cats purr.": _unit(1, 0, 0), "Dogs bark loudly.": _unit(0, 1, 0), "Fish swim.": _unit(0.6, 0.8, 0)}


def _split(text: str) -> list[str]:
    return [part.strip() + "." for part in text.split(".") if part.strip()]


def _lookup(texts: Sequence[str]) -> dict[str, np.ndarray]:
    return {text: STORED[text] for text in texts if text in STORED}


def test_chunk_scores_by_its_closest_sentence_not_the_average() -> None:
    best = best_sentence_similarity({1: "Cats purr. Dogs bark loudly."}, _unit(0, 1, 0), _split, _lookup)
    assert best[1] == pytest.approx(1.0)


def test_sentences_without_a_stored_vector_are_skipped() -> None:
    best = best_sentence_similarity({1: "Cut at the edge. Fish swim."}, _unit(1, 0, 0), _split, _lookup)
    assert best[1] == pytest.approx(0.6)


def test_chunk_with_no_stored_sentence_gets_no_score() -> None:
    best = best_sentence_similarity(
        {1: "Nothing stored here.", 2: "Cats purr."}, _unit(1, 0, 0), _split, _lookup
    )
    assert 1 not in best
    assert best[2] == pytest.approx(1.0)


def test_lookup_is_asked_once_for_all_chunks_and_each_sentence_once() -> None:
    asked: list[list[str]] = []

    def counting(texts: Sequence[str]) -> dict[str, np.ndarray]:
        asked.append(list(texts))
        return _lookup(texts)

    best_sentence_similarity(
        {1: "Cats purr. Cats purr.", 2: "Cats purr. Fish swim."}, _unit(1, 0, 0), _split, counting
    )
    assert asked == [["Cats purr.", "Fish swim."]]
