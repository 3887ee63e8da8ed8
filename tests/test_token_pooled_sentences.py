"""eval.token_pooled_sentences: a copy of an index whose sentence vectors are pooled from one chunk pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import rag
from eval.token_pooled_sentences import pool, timing

pytestmark = pytest.mark.model

SENTENCES = [
    "The ferry leaves the harbour at seven every morning.",
    "The mill by the river grinds oats on Mondays and barley on Fridays.",
    "Gulls nest on the old pier when the fishing boats are away.",
    "The lighthouse keeper writes the weather in a book each night.",
    # Longer than a chunk: no chunk holds it whole, so it keeps the vector it was embedded with.
    "In winter the harbour master closes the northern quay, moves the small boats behind the stone "
    "breakwater, and sends the ferry round by the southern channel until the ice is gone.",
]


def stored_vectors(index: Path) -> dict[int, np.ndarray]:
    with sqlite3.connect(index / "rag.sqlite") as database:
        return {
            text_hash: np.frombuffer(blob, dtype=np.float16).astype(np.float32)
            for text_hash, blob in database.execute("SELECT text_hash, vector FROM sentence_vectors")
        }


def test_sentences_a_chunk_holds_get_its_token_vectors_and_the_rest_keep_theirs(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harbour.txt").write_text(" ".join(SENTENCES) + "\n")
    settings = rag.Settings(chunk_size=120, chunk_overlap=10)
    with rag.open(tmp_path / "index", settings) as base:
        base.ingest([tmp_path / "docs"])
    before = stored_vectors(tmp_path / "index")
    counts = pool(tmp_path / "index", tmp_path / "pooled")
    after = stored_vectors(tmp_path / "pooled")
    assert counts.pooled + counts.apart == len(SENTENCES) == len(after) and counts.other == 0
    assert counts.pooled >= 1 and counts.apart >= 1
    # The chunk pass gives the vectors ingest stored; the original index is left as it was.
    assert min(counts.chunk_cosines) > 0.99999
    unchanged = stored_vectors(tmp_path / "index")
    assert all(np.array_equal(unchanged[key], vector) for key, vector in before.items())
    changed = [key for key in before if not np.array_equal(before[key], after[key])]
    assert len(changed) == counts.pooled
    assert all(abs(np.linalg.norm(after[key]) - 1) < 1e-2 for key in changed)
    with rag.open(tmp_path / "pooled", settings) as copy:
        assert copy.ask("When does the ferry leave the harbour?").answered


def test_timing_runs_both_ways_on_the_same_texts(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harbour.txt").write_text(" ".join(SENTENCES) + "\n")
    with rag.open(tmp_path / "index", rag.Settings()) as base:
        base.ingest([tmp_path / "docs"])
    seconds = timing(tmp_path / "index", rounds=2)
    assert {way: len(values) for way, values in seconds.items()} == {"apart": 2, "pooled": 2}


def test_a_folder_that_is_no_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not an index folder"):
        pool(tmp_path, tmp_path / "pooled")
