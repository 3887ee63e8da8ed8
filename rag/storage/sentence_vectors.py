"""Sentence vectors stored at ingest, so that answering a question embeds nothing but the question.

Rows are keyed by a 64-bit hash of the sentence text and belong to a document (deleted with
it). They are float16: half the bytes of float32, and cosines move by less than 0.001.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS sentence_vectors (
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    text_hash INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentence_vectors_hash ON sentence_vectors(text_hash);
CREATE INDEX IF NOT EXISTS sentence_vectors_document ON sentence_vectors(document_key);
"""
_LOOKUP_BATCH = 500  # SQLite allows 32,766 parameters; smaller IN lists plan just as well


def text_hash(text: str) -> int:
    """A signed 64-bit hash of the text, as SQLite stores integers."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def insert(
    connection: sqlite3.Connection, document_key: int | None, vectors: Mapping[str, np.ndarray]
) -> None:
    """Store a document's sentence vectors (inside the caller's transaction)."""
    connection.executemany(
        "INSERT INTO sentence_vectors (document_key, text_hash, vector) VALUES (?, ?, ?)",
        [
            (document_key, text_hash(text), np.asarray(vector, dtype=np.float16).tobytes())
            for text, vector in vectors.items()
        ],
    )


def lookup(connection: sqlite3.Connection, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
    """The stored unit vectors (float32) of those texts that have one."""
    by_hash = {text_hash(text): text for text in texts}
    hashes = list(by_hash)
    rows = []
    for start in range(0, len(hashes), _LOOKUP_BATCH):
        batch = hashes[start : start + _LOOKUP_BATCH]
        try:
            rows += connection.execute(
                "SELECT text_hash, vector FROM sentence_vectors"
                f" WHERE text_hash IN ({','.join('?' * len(batch))})",
                batch,
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only index made before the table existed
            break
    # Another dimension would be another model's vector. One array for all: per-row numpy
    # calls cost more than the query.
    rows = [(hash_value, blob) for hash_value, blob in rows if len(blob) == 2 * dimension]
    if not rows:
        return {}
    vectors = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float16).reshape(
        len(rows), dimension
    )
    vectors = vectors.astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return {by_hash[hash_value]: vector for (hash_value, _), vector in zip(rows, vectors, strict=True)}
