"""Reading documents out of an index folder's database: listings, one document whole, its pages,
what a later pass has still to add, and every document as `rag copy` carries it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

import numpy as np

from rag.errors import IndexDamagedError, NotFoundError
from rag.storage import page_boxes, structure_spans
from rag.storage.exported import ExportedChunk, ExportedDocument
from rag.storage.records import DocumentInfo, PagedFile
from rag.storage.scope import Scope
from rag.storage.sqlite.opening import Database
from rag.storage.sqlite.searching import IN_SCOPE
from rag.storage.sqlite_errors import storage_error, translated
from rag.types import Document, Location


class DocumentReads(Database):
    """The stored documents, read without the search's indexes."""

    @translated
    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]:
        """Map of each of these sources that is stored to the hash of the content it came from.

        Only the sources asked about are read: adding one document to a million costs the same
        as adding it to a thousand.
        """
        found: dict[str, str] = {}
        for start in range(0, len(sources), 500):
            part = list(sources[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = self._connect().execute(
                f"SELECT source, content_hash FROM documents WHERE source IN ({marks})", part
            )
            found.update(rows)
        return found

    @translated
    def sources(self) -> list[str]:
        """All document sources, sorted."""
        rows = self._connect().execute("SELECT source FROM documents ORDER BY source")
        return [row[0] for row in rows]

    @translated
    def documents(self, scope: Scope | None = None) -> list[DocumentInfo]:
        """All documents (of the scope) with sizes and chunk counts, sorted by source."""
        where, arguments = ("", []) if scope is None else (f" WHERE d.key IN {IN_SCOPE}", [scope.keys_json()])
        rows = self._connect().execute(
            "SELECT d.id, d.source, d.title, d.size_bytes, length(d.text), count(c.id), d.added_at,"
            " d.language, d.script"
            f" FROM documents d LEFT JOIN chunks c ON c.document_key = d.key{where}"
            " GROUP BY d.key ORDER BY d.source",
            arguments,
        )
        return [DocumentInfo(*row) for row in rows]

    @translated
    def document(self, document_id: str, scope: Scope | None = None) -> Document:
        """The full document with the given id (or source); one outside the scope does not exist."""
        row = (
            self._connect()
            .execute(
                "SELECT id, source, title, text, metadata, page_starts, key, language FROM documents"
                " WHERE id = ? OR source = ? LIMIT 1",
                (document_id, document_id),
            )
            .fetchone()
        )
        if row is None or (scope is not None and row[6] not in scope.document_keys):
            raise NotFoundError(f"no document {document_id!r} in the index")
        return Document(
            id=row[0],
            source=row[1],
            title=row[2],
            text=row[3],
            metadata=json.loads(row[4]),
            page_starts=tuple(json.loads(row[5])),
            locations=_locations(self._connect(), row[6]),
            language=row[7],
            structure=structure_spans.load(self._connect(), row[6]),
        )

    @translated
    def paged_file(self, document_id: str) -> PagedFile:
        """Where the document with this id (or source) came from, and whether its pages have boxes."""
        row = (
            self._connect()
            .execute(
                "SELECT key, id, source, content_hash, metadata, page_starts FROM documents"
                " WHERE id = ? OR source = ? LIMIT 1",
                (document_id, document_id),
            )
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no document {document_id!r} in the index")
        metadata = json.loads(row[4])
        file_type = str(metadata.get("type", "")) if isinstance(metadata, dict) else ""
        has_geometry = page_boxes.has_any(self._connect(), int(row[0]))
        return PagedFile(
            int(row[0]), row[1], row[2], row[3], file_type, len(json.loads(row[5])), has_geometry
        )

    @translated
    def page_runs(self, paged: PagedFile, page: int) -> bytes | None:
        """The encoded word boxes of one page (rag.pages.geometry.decode); None when it has none."""
        found = page_boxes.load(self._connect(), paged.key, page)
        return None if found is None else found[1]

    @translated
    def documents_without_page_boxes(self) -> list[str]:
        """Sources of the PDFs and pictures that have no page positions (ingested before they
        were stored), oldest first."""
        rows = self._connect().execute(
            "SELECT source FROM documents d WHERE json_extract(d.metadata, '$.type') IN ('pdf', 'image')"
            " AND NOT EXISTS (SELECT 1 FROM page_boxes p WHERE p.document_key = d.key) ORDER BY d.key"
        )
        return [str(row[0]) for row in rows]

    @translated
    def documents_without_sentence_vectors(self) -> list[str]:
        """Ids of the documents with text none of whose sentences has a stored vector (ingested
        before sentence vectors were stored), oldest first."""
        rows = self._connect().execute(
            "SELECT id FROM documents d WHERE length(trim(d.text)) > 0 AND NOT EXISTS"
            " (SELECT 1 FROM sentence_vectors s WHERE s.document_key = d.key) ORDER BY d.key"
        )
        return [str(row[0]) for row in rows]

    @translated
    def has_chunks(self) -> bool:
        """Whether any chunk is stored (without counting them all)."""
        return self._connect().execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    @translated
    def counts(self, scope: Scope | None = None) -> tuple[int, int]:
        """Number of documents and of chunks (of the scope)."""
        if scope is not None:
            return len(scope.document_keys), len(scope.chunk_ids)
        connection = self._connect()
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = connection.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(documents), int(chunks)

    @translated
    def language_counts(self) -> dict[str, int]:
        """How many documents each detected language has, most first (reads every document's row)."""
        rows = self._connect().execute(
            "SELECT language, count(*) FROM documents GROUP BY language ORDER BY count(*) DESC, language"
        )
        return {row[0]: int(row[1]) for row in rows}

    def export_documents(self, dimension: int) -> Iterator[ExportedDocument]:
        """Every document with all that is stored for it, in the order they were added."""
        try:
            connection = self._connect()
            keys = [row[0] for row in connection.execute("SELECT key FROM documents ORDER BY key")]
            for key in keys:
                document = self._exported(connection, key, dimension)
                if document is not None:  # removed meanwhile
                    yield document
        except sqlite3.Error as error:
            raise storage_error(error, self.folder) from error

    def _exported(self, connection: sqlite3.Connection, key: int, dimension: int) -> ExportedDocument | None:
        row = connection.execute(
            "SELECT id, source, title, text, metadata, page_starts, content_hash, size_bytes, added_at,"
            " language, script FROM documents WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        chunks = []
        for start, end, text, search_text, terms, blob in connection.execute(
            "SELECT start, end, text, search_text, terms, vector FROM chunks WHERE document_key = ? ORDER BY id",
            (key,),
        ):
            if len(blob) != dimension * 4:
                raise IndexDamagedError(
                    f"a vector of {row[1]} in {self.path} is not {dimension} numbers long;"
                    f" run `rag check --index {self.folder}`"
                )
            chunks.append(
                ExportedChunk(start, end, text, search_text, terms, np.frombuffer(blob, dtype=np.float32))
            )
        vectors = connection.execute(
            "SELECT text_hash, vector FROM sentence_vectors WHERE document_key = ? ORDER BY rowid", (key,)
        )
        boxes = connection.execute(
            "SELECT page, source, runs FROM page_boxes WHERE document_key = ? ORDER BY page", (key,)
        )
        return ExportedDocument(
            id=row[0],
            source=row[1],
            title=row[2],
            text=row[3],
            metadata=json.loads(row[4]),
            page_starts=tuple(json.loads(row[5])),
            content_hash=row[6],
            size_bytes=int(row[7]),
            added_at=str(row[8]),
            language=row[9],
            script=row[10],
            chunks=tuple(chunks),
            locations=_locations(connection, key),
            sentence_vectors=tuple((int(hash_value), bytes(blob)) for hash_value, blob in vectors),
            structure=structure_spans.load(connection, key),
            page_boxes=tuple((int(page), str(source), bytes(runs)) for page, source, runs in boxes),
        )

    @translated
    def uncopied_counts(self) -> dict[str, int]:
        """What `rag copy` leaves behind, counted: feedback entries and audit events."""
        connection = self._connect()
        counts = {}
        for name, query in (
            ("feedback entries", "SELECT count(*) FROM feedback"),
            ("audit events", "SELECT count(*) FROM audit_events"),
        ):
            try:
                counts[name] = int(connection.execute(query).fetchone()[0])
            except sqlite3.OperationalError:  # an index made before the table
                counts[name] = 0
        return counts


def _locations(connection: sqlite3.Connection, key: int) -> tuple[Location, ...]:
    """The labelled locations (sheet rows, slides, ...) of the document of this key, by start."""
    rows = connection.execute(
        "SELECT start, label FROM locations WHERE document_key = ? ORDER BY start", (key,)
    )
    return tuple(map(Location._make, rows))
