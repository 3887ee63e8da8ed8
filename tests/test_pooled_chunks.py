"""eval.pooled_chunks: a copy of an index whose chunk vectors are pooled from stored sentence vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import rag
from eval.pooled_chunks import pool

MODEL = "hashing-256"
TEXT = "The ferry leaves at seven. The mill grinds oats on Mondays. Gulls nest on the old pier.\n"


def test_each_chunk_vector_becomes_the_weighted_mean_of_its_sentences(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harbour.txt").write_text(TEXT)
    with rag.open(tmp_path / "index", rag.Settings(embedding_model=MODEL)) as base:
        base.ingest([tmp_path / "docs"])
    counts = pool(tmp_path / "index", tmp_path / "pooled", MODEL)
    embedder = rag.make_embedder(MODEL)
    with sqlite3.connect(tmp_path / "pooled" / "rag.sqlite") as database:
        ((start, end, search_text, blob),) = database.execute(
            "SELECT start, end, search_text, vector FROM chunks"
        )
    sentences = [
        "The ferry leaves at seven.",
        "The mill grinds oats on Mondays.",
        "Gulls nest on the old pier.",
    ]
    vectors = embedder.embed(sentences)
    header = (search_text or "")[: -(end - start)].strip() if search_text else ""
    expected = sum(vector * len(sentence) for vector, sentence in zip(vectors, sentences, strict=True))
    if header:
        expected = expected + embedder.embed([header])[0] * len(header)
    expected = expected / np.linalg.norm(expected)
    pooled = np.frombuffer(blob, dtype=np.float32)
    assert counts["chunks"] == 1 and counts["sentences"] == 3 and counts["missing"] == 0
    assert float(pooled @ expected) > 0.999
    # The original index keeps its own chunk vector, and the copy answers from the pooled one.
    with rag.open(tmp_path / "pooled", rag.Settings(embedding_model=MODEL)) as copy:
        assert copy.ask("When does the ferry leave?").answered


def test_a_folder_that_is_no_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not an index folder"):
        pool(tmp_path, tmp_path / "pooled", MODEL)
