"""Storage: SQLite (the truth), FAISS vectors derived from it, and the writer lock.

`__all__` is its public face, which ui/ and eval/ may import: building a vector index outside an
index folder (eval/scale.py), documents written as stored (eval/engines_scale.py), and the key
a sentence's stored vector is found by (eval/pooled_chunks.py), and for the PostgreSQL benchmarks
the vectors read as a reader's FAISS index reads them (eval/follower_read.py), the HNSW index's
statement and its build or drop (eval/postgres_latency.py, eval/engines_scale.py), format 3's journal
statements and the follower's journal read (eval/journal_upkeep.py).
"""

from rag.exports import lazy_exports as _lazy_exports

_EXPORTS = {
    "build_vector_index": "rag.storage.vectors.build",
    "BuiltVectorIndex": "rag.storage.vectors.build:BuiltIndex",
    "DATABASE_FORMAT_3": "rag.storage.database.schema:FORMAT_3",
    "DATABASE_JOURNAL_CHANGES": "rag.storage.database.journal:CHANGES",
    "ExportedChunk": "rag.storage.exported",
    "ExportedDocument": "rag.storage.exported",
    "keep_database_vector_index": "rag.storage.bulk_load:keep_index_for",
    "PGVECTOR_HNSW_INDEX": "rag.storage.database.hnsw:VECTOR_INDEX",
    "read_database_vectors": "rag.storage.database.follower:read_vectors",
    "sentence_text_hash": "rag.storage.sentence_vectors:text_hash",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
