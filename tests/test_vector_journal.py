"""The journal of vector changes: what an index at a mark must apply to catch up with SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

import rag
from rag.storage.store import DATABASE_NAME, NewDocument
from rag.storage.vectors.journal import changes_since, current_mark
from rag.types import TextSpan

TEXTS = [
    rag.TextItem(f"notes/{name}.txt", f"The {name} river floods the {name} valley.")
    for name in ("amber", "birch", "cedar")
]


def put(base: rag.KnowledgeBase, source: str, text: str) -> None:
    """Commit a one-chunk document straight to the store, as the ingest pipeline does."""
    vectors = base.embedder.embed([text])
    document = NewDocument(source, source, text, text, len(text), [TextSpan(0, len(text), text)], vectors)
    base.store.put_document(document)


def chunk_ids(base: rag.KnowledgeBase, source: str) -> set[int]:
    with sqlite3.connect(base.folder / DATABASE_NAME) as connection:
        rows = connection.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.key = c.document_key WHERE d.source = ?",
            (source,),
        )
        return {row[0] for row in rows}


def test_a_mark_sees_new_chunks_and_the_chunks_of_removed_or_replaced_documents(
    fake_base: rag.KnowledgeBase,
) -> None:
    fake_base.add_texts(TEXTS)
    with fake_base.store.snapshot() as connection:
        mark = current_mark(connection)
    amber, birch = chunk_ids(fake_base, "notes/amber.txt"), chunk_ids(fake_base, "notes/birch.txt")
    fake_base.store.remove_document("notes/amber.txt")
    put(fake_base, "notes/birch.txt", "The birch river is frozen now.")
    put(fake_base, "notes/delta.txt", "The delta river meets the sea.")
    with fake_base.store.snapshot() as connection:
        delta = changes_since(connection, mark, fake_base.dimension)
    assert delta is not None
    assert set(delta.gone.tolist()) == amber | birch
    assert set(delta.added_ids.tolist()) == chunk_ids(fake_base, "notes/birch.txt") | chunk_ids(
        fake_base, "notes/delta.txt"
    )
    assert delta.added_vectors.shape == (len(delta.added_ids), fake_base.dimension)
    assert delta.mark.generation == fake_base.store.generation()


def test_a_replaced_vector_is_removed_and_added_again(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(TEXTS)
    with fake_base.store.snapshot() as connection:
        mark = current_mark(connection)
    (chunk,) = chunk_ids(fake_base, "notes/cedar.txt")
    new_vector = np.zeros(fake_base.dimension, dtype=np.float32)
    new_vector[3] = 1.0
    with sqlite3.connect(fake_base.folder / DATABASE_NAME) as connection:
        connection.execute("UPDATE chunks SET vector = ? WHERE id = ?", (new_vector.tobytes(), chunk))
    with fake_base.store.snapshot() as connection:
        delta = changes_since(connection, mark, fake_base.dimension)
    assert delta is not None and delta.gone.tolist() == [chunk] and delta.added_ids.tolist() == [chunk]
    assert np.array_equal(delta.added_vectors[0], new_vector)


def test_a_mark_older_than_the_forgotten_changes_cannot_catch_up(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(TEXTS)
    with fake_base.store.snapshot() as connection:
        old = current_mark(connection)
    fake_base.store.remove_document("notes/amber.txt")
    with fake_base.store.snapshot() as connection:
        recent = current_mark(connection)
    fake_base.store.prune_vector_changes(recent.last_change)
    with fake_base.store.snapshot() as connection:
        assert changes_since(connection, old, fake_base.dimension) is None
        caught_up = changes_since(connection, recent, fake_base.dimension)
    assert caught_up is not None and caught_up.size == 0


def test_an_index_made_before_the_journal_gets_one_when_opened_for_writing(
    river_index: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    folder = river_index
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(
            "DROP TRIGGER chunks_vector_gone; DROP TRIGGER chunks_vector_replaced; DROP TABLE vector_changes;"
        )
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.search("amber valley", mode="dense")[0].source == "notes/amber.txt"
        base.remove("notes/amber.txt")
        assert all(
            passage.source != "notes/amber.txt" for passage in base.search("amber valley", mode="dense")
        )
