"""Sentence vectors stored at ingest: found again by text, gone with their document."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rag

DANUBE = "The Danube flows through ten countries. It reaches the Black Sea near the delta."


def test_ingest_stores_a_vector_for_every_sentence(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("rivers", DANUBE)])
    sentences = ["The Danube flows through ten countries.", "It reaches the Black Sea near the delta."]
    found = fake_base.store.sentence_vectors(sentences, fake_base.dimension)
    assert set(found) == set(sentences)
    for text, vector in found.items():
        expected = fake_base.embedder.embed([text])[0]
        assert float(vector @ expected) > 0.999  # float16 storage, renormalised


def test_replaced_and_removed_documents_take_their_sentence_vectors_along(
    fake_base: rag.KnowledgeBase,
) -> None:
    fake_base.add_texts([rag.TextItem("rivers", DANUBE)])
    fake_base.add_texts([rag.TextItem("rivers", "The Rhine flows into the North Sea at Rotterdam.")])
    store, dimension = fake_base.store, fake_base.dimension
    assert not store.sentence_vectors(["The Danube flows through ten countries."], dimension)
    assert store.sentence_vectors(["The Rhine flows into the North Sea at Rotterdam."], dimension)
    fake_base.remove("rivers")
    assert not store.sentence_vectors(["The Rhine flows into the North Sea at Rotterdam."], dimension)


def test_vectors_of_another_dimension_are_not_returned(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("rivers", DANUBE)])
    assert fake_base.store.sentence_vectors(["The Danube flows through ten countries."], 128) == {}


def test_an_index_without_sentence_vectors_still_answers(tmp_path: Path) -> None:
    """Indexes built before sentence vectors existed: the answer step embeds the sentences itself."""
    embedder = rag.HashingEmbedder(256)
    with rag.open(tmp_path / "index", embedder=embedder) as base:
        base.add_texts([rag.TextItem("rivers", DANUBE)])
        base.store._connect().execute("DELETE FROM sentence_vectors")
        answer = base.ask("Which sea does the Danube reach?")
    assert answer.answered and "Black Sea" in answer.citations[0].quote.text
    assert np.isfinite(answer.citations[0].score)
