"""Writing documents into an index folder's database: each change one transaction that bumps the
generation the FAISS file is tagged with."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from rag.errors import NotFoundError
from rag.language.analysis import index_text
from rag.storage import page_boxes, sentence_vectors, structure_spans
from rag.storage.exported import ExportedDocument
from rag.storage.records import NewDocument
from rag.storage.sqlite.opening import Database
from rag.storage.sqlite_errors import translated
from rag.storage.vectors.journal import prune
from rag.types import PageGeometry, document_id


class DocumentWrites(Database):
    """Adding, importing, renaming and removing documents, and what later passes add to them."""

    @translated
    def put_document(self, document: NewDocument) -> str:
        """Insert or replace a document and its chunks in one transaction; return its id."""
        identifier = document_id(document.text)
        vectors = np.ascontiguousarray(document.vectors, dtype=np.float32)
        search_texts = document.search_texts or [span.text for span in document.spans]
        terms = [index_text(found, document.language) for found in search_texts]
        with self._transaction() as connection:
            connection.execute("DELETE FROM documents WHERE source = ?", (document.source,))
            cursor = connection.execute(
                "INSERT INTO documents (id, source, title, text, metadata, page_starts,"
                " content_hash, size_bytes, language, script) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    identifier,
                    document.source,
                    document.title,
                    document.text,
                    json.dumps(document.metadata or {}),
                    json.dumps(list(document.page_starts)),
                    document.content_hash,
                    document.size_bytes,
                    document.language,
                    document.script,
                ),
            )
            key = cursor.lastrowid
            connection.executemany(
                "INSERT INTO chunks (document_key, start, end, text, vector, search_text, terms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        span.start,
                        span.end,
                        span.text,
                        vectors[row].tobytes(),
                        _unless_same(found, span.text),
                        terms[row],
                    )
                    for row, (span, found) in enumerate(zip(document.spans, search_texts, strict=True))
                ],
            )
            connection.executemany(
                "INSERT OR REPLACE INTO locations (document_key, start, label) VALUES (?, ?, ?)",
                [(key, location.start, location.label) for location in document.locations],
            )
            sentence_vectors.insert(connection, key, document.sentence_vectors or {})
            structure_spans.insert(connection, key, document.text, document.metadata or {})
            page_boxes.insert(connection, key, document.geometry)
            self._bump_generation(connection)
        return identifier

    @translated
    def import_document(self, document: ExportedDocument) -> None:
        """Write a document read out of another index as it was stored (`rag copy`), replacing one
        of the same source, in one transaction: nothing is analysed or embedded again."""
        with self._transaction() as connection:
            connection.execute("DELETE FROM documents WHERE source = ?", (document.source,))
            key = connection.execute(
                "INSERT INTO documents (id, source, title, text, metadata, page_starts, content_hash,"
                " size_bytes, added_at, language, script) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                document.document_row(),
            ).lastrowid
            connection.executemany(
                "INSERT INTO chunks (document_key, start, end, text, vector, search_text, terms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        chunk.start,
                        chunk.end,
                        chunk.text,
                        np.ascontiguousarray(chunk.vector, dtype=np.float32).tobytes(),
                        chunk.search_text,
                        chunk.terms,
                    )
                    for chunk in document.chunks
                ],
            )
            connection.executemany(
                "INSERT INTO locations (document_key, start, label) VALUES (?, ?, ?)",
                [(key, location.start, location.label) for location in document.locations],
            )
            connection.executemany(
                "INSERT INTO sentence_vectors (document_key, text_hash, vector) VALUES (?, ?, ?)",
                [(key, hash_value, blob) for hash_value, blob in document.sentence_vectors],
            )
            connection.executemany(
                "INSERT INTO structure_spans (document_key, kind, start, end) VALUES (?, ?, ?, ?)",
                [(key, span.kind, span.start, span.end) for span in document.structure],
            )
            connection.executemany(
                "INSERT INTO page_boxes (document_key, page, source, runs) VALUES (?, ?, ?, ?)",
                [(key, page, source, runs) for page, source, runs in document.page_boxes],
            )
            self._bump_generation(connection)

    @translated
    def remove_document(self, source: str) -> int:
        """Delete a document and its chunks; return how many chunks went."""
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT key, (SELECT count(*) FROM chunks WHERE document_key = documents.key)"
                " FROM documents WHERE source = ?",
                (source,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no document with source {source!r} in the index")
            connection.execute("DELETE FROM documents WHERE key = ?", (row[0],))
            self._bump_generation(connection)
        return int(row[1])

    @translated
    def rename_document(self, source: str, new_source: str, new_title: str | None = None) -> None:
        """Store a document under a new source (a renamed file): its chunks and vectors stay."""
        with self._transaction() as connection:
            connection.execute("DELETE FROM documents WHERE source = ?", (new_source,))
            updated = connection.execute(
                "UPDATE documents SET source = ?, title = coalesce(?, title) WHERE source = ?",
                (new_source, new_title, source),
            ).rowcount
            if not updated:
                raise NotFoundError(f"no document with source {source!r} in the index")
            self._bump_generation(connection)

    @translated
    def add_sentence_vectors(self, document_id: str, vectors: Mapping[str, np.ndarray]) -> bool:
        """Store sentence vectors for a document, in one transaction; False when it is gone."""
        with self._transaction() as connection:
            row = connection.execute("SELECT key FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                return False
            sentence_vectors.insert(connection, int(row[0]), vectors)
        return True

    @translated
    def add_page_boxes(self, source: str, text: str, geometry: Sequence[PageGeometry]) -> bool:
        """Store page positions for a document whose stored text is `text`, in one transaction;
        False when it is gone or its text is not that (another file's positions never land)."""
        with self._transaction() as connection:
            row = connection.execute("SELECT key, text FROM documents WHERE source = ?", (source,)).fetchone()
            if row is None or row[1] != text:
                return False
            page_boxes.insert(connection, int(row[0]), geometry)
        return True

    @translated
    def prune_vector_changes(self, upto: int) -> None:
        """Forget the vector changes up to seq `upto`, once a saved index holds them."""
        with self._transaction() as connection:
            prune(connection, upto)

    @translated
    def optimize_text_index(self) -> None:
        """Merge the full-text index's segments, and let SQLite refresh its query statistics."""
        with self._transaction() as connection:
            connection.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self._connect().execute("PRAGMA optimize")


def _unless_same(search_text: str, text: str) -> str | None:
    """NULL when a chunk is found by its own text, so that text is not stored twice."""
    return None if search_text == text else search_text
