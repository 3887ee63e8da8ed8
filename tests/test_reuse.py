"""ReusingEmbedder: a question is embedded once, stored sentence vectors are never embedded again."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from conftest import RecordingEmbedder

from rag.embedding.reuse import ReusingEmbedder


def no_stored_vectors(texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
    return {}


def test_a_question_embedded_again_is_not_embedded_twice() -> None:
    inner = RecordingEmbedder(64)
    reuse = ReusingEmbedder(inner, no_stored_vectors)
    first = reuse.embed(["Who hosted the conference?"])
    second = reuse.embed(["Who hosted the conference?"])
    np.testing.assert_array_equal(first, second)
    assert inner.calls == [["Who hosted the conference?"]]


def test_stored_vectors_are_used_and_only_the_rest_is_embedded() -> None:
    inner = RecordingEmbedder(64)
    stored_vector = inner.embed(["The Danube reaches the Black Sea."])[0]
    inner.calls.clear()
    lookups: list[list[str]] = []

    def stored(texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        lookups.append(list(texts))
        return {"The Danube reaches the Black Sea.": stored_vector} if dimension == 64 else {}

    reuse = ReusingEmbedder(inner, stored)
    texts = ["The Danube reaches the Black Sea.", "Etna is a volcano.", "Etna is a volcano."]
    vectors = reuse.embed(texts)
    assert inner.calls == [["Etna is a volcano."]]
    np.testing.assert_array_equal(vectors[0], stored_vector)
    np.testing.assert_array_equal(vectors[1], vectors[2])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32


def test_no_texts_give_an_empty_array() -> None:
    assert ReusingEmbedder(RecordingEmbedder(64), no_stored_vectors).embed([]).shape == (0, 64)
