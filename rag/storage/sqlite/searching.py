"""What a search reads from an index folder's database: FTS5 matches and term counts, chunks and
their vectors by id, stored sentence vectors, and the languages a question is analysed in."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

import numpy as np

from rag.errors import IndexDamagedError
from rag.language.analysis import fts_expression
from rag.storage import sentence_vectors
from rag.storage.records import DISTINCT_LANGUAGES, ChunkRecord
from rag.storage.scope import Scope
from rag.storage.sqlite.opening import Database
from rag.storage.sqlite_errors import storage_error, translated
from rag.types import Chunk

# A reader's scope, bound as a JSON array of document keys (rag/storage/scope.py).
IN_SCOPE = "(SELECT value FROM json_each(?))"
CHUNKS_IN_SCOPE = f"(SELECT id FROM chunks WHERE document_key IN {IN_SCOPE})"


class SearchReads(Database):
    """The reads a question makes, each within a reader's scope where one is given."""

    @translated
    def lexical_search(
        self, terms: Sequence[str], limit: int, scope: Scope | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, bm25 score, higher is better) of the chunks holding any of the analysed terms,
        within the scope."""
        if not terms:
            return []
        match_expression = fts_expression(terms)
        where, arguments = (
            ("", []) if scope is None else (f" AND rowid IN {CHUNKS_IN_SCOPE}", [scope.keys_json()])
        )
        rows = self._connect().execute(
            f"SELECT rowid, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?{where}"
            " ORDER BY bm25(chunks_fts) LIMIT ?",
            (match_expression, *arguments, limit),
        )
        return [(int(row[0]), float(row[1])) for row in rows]

    @translated
    def term_document_counts(self, terms: Sequence[str], scope: Scope | None = None) -> dict[str, int]:
        """How many chunks (of the scope) hold each of the given full-text terms (absent terms are left out)."""
        connection = self._connect()
        if scope is not None:
            return self._scoped_term_counts(connection, terms, scope)
        counts = {}
        for term in dict.fromkeys(terms):
            row = connection.execute("SELECT doc FROM chunks_vocab WHERE term = ?", (term,)).fetchone()
            if row is not None:
                counts[term] = int(row[0])
        return counts

    @staticmethod
    def _scoped_term_counts(
        connection: sqlite3.Connection, terms: Sequence[str], scope: Scope
    ) -> dict[str, int]:
        """Counted over the scope's chunks only, so a question's weights are those of the readable index."""
        counts = {}
        for term in dict.fromkeys(terms):
            if not term or '"' in term:
                continue
            row = connection.execute(
                f"SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN {CHUNKS_IN_SCOPE}",
                (f'"{term}"', scope.keys_json()),
            ).fetchone()
            if row[0]:
                counts[term] = int(row[0])
        return counts

    @translated
    def languages(self, scope: Scope | None = None) -> list[str]:
        """The distinct languages of the stored documents, in code order.

        Every search asks, so this hops from one language to the next in the language index
        instead of counting: at a million documents 0.05 ms, where counting took 30 ms.
        """
        if scope is not None:
            return list(scope.languages)  # found with the scope, once
        rows = self._connect().execute(DISTINCT_LANGUAGES)
        return [row[0] for row in rows]

    @translated
    def chunk_records(self, chunk_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their document's source, title and pages."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._connect().execute(
            "SELECT c.id, d.id, c.start, c.end, c.text, d.source, d.title, d.page_starts,"
            " (SELECT label FROM locations l WHERE l.document_key = d.key AND l.start <= c.start"
            "  ORDER BY l.start DESC LIMIT 1)"
            f" FROM chunks c JOIN documents d ON d.key = c.document_key WHERE c.id IN ({marks})",
            list(chunk_ids),
        )
        return {
            row[0]: ChunkRecord(
                Chunk(row[0], row[1], row[2], row[3], row[4]),
                row[5],
                row[6],
                tuple(json.loads(row[7])),
                row[8],
            )
            for row in rows
        }

    @translated
    def chunk_vectors(self, chunk_ids: Sequence[int], dimension: int) -> dict[int, np.ndarray]:
        """The stored vectors of those chunks that exist and have the expected dimension."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._connect().execute(
            f"SELECT id, vector FROM chunks WHERE id IN ({marks})", list(chunk_ids)
        )
        return {
            int(row[0]): np.frombuffer(row[1], dtype=np.float32)
            for row in rows
            if len(row[1]) == dimension * 4
        }

    def iter_vectors(self, dimension: int, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (row_ids, vectors) batches of every stored chunk vector."""
        try:
            cursor = self._connect().execute("SELECT id, vector FROM chunks ORDER BY id")
            while rows := cursor.fetchmany(batch):
                bad = next((row[0] for row in rows if len(row[1]) != dimension * 4), None)
                if bad is not None:
                    raise IndexDamagedError(
                        f"the vector of chunk {bad} in {self.path} is not {dimension} numbers long;"
                        f" run `rag check --index {self.folder}`"
                    )
                row_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
                vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
                yield row_ids, vectors.reshape(len(rows), dimension)
        except sqlite3.Error as error:
            raise storage_error(error, self.folder) from error

    @translated
    def sentence_vectors(self, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        """Vectors stored at ingest for those of the sentence texts that have one."""
        return sentence_vectors.lookup(self._connect(), texts, dimension)
