"""The FAISS file: derived, checksummed, rebuilt when missing, stale or damaged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

import rag
from rag.storage.store import DATABASE_NAME
from rag.storage.vectors.saved import VECTORS_META_NAME, VECTORS_NAME

TEXTS = [
    rag.TextItem(f"notes/{name}.txt", f"The {name} river floods the {name} valley every spring.")
    for name in ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove")
]


def test_garbled_vector_bytes_are_detected_by_the_checksum_and_rebuilt(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(TEXTS)
        expected = [(p.chunk_id, p.dense_score) for p in base.search("cedar valley", k=3, mode="dense")]
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        first_vector = connection.execute("SELECT vector FROM chunks ORDER BY id LIMIT 1").fetchone()[0]
    path = folder / VECTORS_NAME
    data = path.read_bytes()
    # Damage one stored vector, not the header: the file still parses, and that chunk would win.
    huge = (np.frombuffer(first_vector, dtype=np.float32) * 1e30).tobytes()
    path.write_bytes(data.replace(first_vector, huge))
    with rag.open(folder, embedder=fake_embedder) as base:
        found = [(p.chunk_id, p.dense_score) for p in base.search("cedar valley", k=3, mode="dense")]
    assert found == expected
    assert all(score is not None and score <= 1.0001 for _, score in found)


def test_vector_file_records_its_checksum(tmp_path: Path, fake_embedder: rag.HashingEmbedder) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(TEXTS)
    meta = json.loads((folder / VECTORS_META_NAME).read_text())
    assert len(meta["sha256"]) == 64 and meta["count"] == len(TEXTS)


def test_the_vector_files_are_as_readable_as_the_database(river_index: Path) -> None:
    mode = (river_index / DATABASE_NAME).stat().st_mode & 0o777
    assert (river_index / VECTORS_NAME).stat().st_mode & 0o777 == mode
    assert (river_index / VECTORS_META_NAME).stat().st_mode & 0o777 == mode
