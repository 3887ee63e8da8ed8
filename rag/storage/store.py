"""SQLite storage: the source of truth for documents, chunks, vectors and the manifest."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexDamagedError, IndexMismatchError, IndexNotFoundError, NotFoundError, StorageError
from rag.feedback import CitationState, Feedback, SourcePassage
from rag.language.analysis import fts_expression, index_text
from rag.storage import (
    audit,
    feedback_table,
    grants,
    page_boxes,
    question_log,
    sentence_vectors,
    structure_spans,
)
from rag.storage.audit import AuditAction, AuditEvent
from rag.storage.exported import ExportedChunk, ExportedDocument, ExportedGrant
from rag.storage.question_log import AskedQuestion, LogStatistics
from rag.storage.schema import FORMAT_VERSION, OWN_TABLES, create_or_upgrade
from rag.storage.scope import Scope
from rag.storage.sqlite_errors import DATABASE_NAME, storage_error, translated
from rag.storage.vectors.journal import prune
from rag.types import Chunk, Document, Location, PageGeometry, TextSpan, document_id


@dataclass(frozen=True)
class NewDocument:
    """A document ready to be written: text, chunk spans and their vectors."""

    source: str
    title: str
    text: str
    content_hash: str
    size_bytes: int
    spans: Sequence[TextSpan]
    vectors: np.ndarray
    page_starts: tuple[int, ...] = ()
    metadata: dict[str, object] | None = None
    locations: tuple[Location, ...] = ()
    search_texts: Sequence[str] = ()  # per span, what it is embedded and found by; () = its text
    sentence_vectors: Mapping[str, np.ndarray] | None = None  # sentence text -> unit vector
    language: str = "und"
    script: str = ""
    geometry: tuple[PageGeometry, ...] = ()  # where each page's characters sit (PDFs, pictures)


@dataclass(frozen=True)
class PagedFile:
    """What showing a stored document's pages needs: its file, what that file was, its page count."""

    key: int
    id: str
    source: str
    content_hash: str
    file_type: str
    pages: int
    has_geometry: bool  # False: ingested before page boxes were stored, or a file without pages


# Each step finds the next language after the last one in the documents_language index.
# A reader's scope, bound as a JSON array of document keys (rag/storage/scope.py).
_IN_SCOPE = "(SELECT value FROM json_each(?))"
_CHUNKS_IN_SCOPE = f"(SELECT id FROM chunks WHERE document_key IN {_IN_SCOPE})"

_DISTINCT_LANGUAGES = """
WITH RECURSIVE found(language) AS (
    SELECT min(language) FROM documents
    UNION ALL
    SELECT (SELECT min(language) FROM documents WHERE language > found.language)
    FROM found WHERE found.language IS NOT NULL
)
SELECT language FROM found WHERE language IS NOT NULL
"""


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its text, for listings."""

    id: str
    source: str
    title: str
    size_bytes: int
    characters: int
    chunks: int
    added_at: str
    language: str = "und"
    script: str = ""

    @property
    def language_label(self) -> str:
        """'de · Latin': the detected language code and the script."""
        return f"{self.language} · {self.script}" if self.script else self.language

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk joined with what a Passage needs from its document."""

    chunk: Chunk
    source: str
    title: str
    page_starts: tuple[int, ...]
    location: str | None  # the label of the location the chunk starts in


class Store:
    """One SQLite database per index folder; WAL so readers see whole committed documents.

    Opening never writes: only `Store.create` (used by ingest) makes a database, and a
    read-only folder is opened read-only, so a shared index can still be searched.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DATABASE_NAME
        self._local = threading.local()
        if not self.exists_in(folder):
            raise IndexNotFoundError(
                f"no index at {folder}: create one with `rag ingest FILES --index {folder}`"
            )
        self.read_only = not (os.access(self.path, os.W_OK) and os.access(folder, os.W_OK))
        self._check_is_index()
        if not self.read_only:
            self._upgrade()

    @staticmethod
    def exists_in(folder: Path) -> bool:
        """Whether the folder holds a database (an empty file is what a crash at creation leaves)."""
        path = folder / DATABASE_NAME
        return path.is_file() and path.stat().st_size > 0

    @staticmethod
    def holds_other_files(folder: Path) -> bool:
        """Whether the folder holds anything but a database being made: what another process
        creating the index there writes first is not a reason to call the folder taken."""
        making = f".{DATABASE_NAME}."
        return any(not entry.name.startswith(making) for entry in folder.iterdir())

    @classmethod
    def create(cls, folder: Path) -> Store:
        """Open the index in `folder`, creating the folder and an empty database when missing."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not cls.exists_in(folder):
                _create_database(folder)
        except sqlite3.Error as error:
            raise storage_error(error, folder) from error
        except OSError as error:
            raise StorageError(
                f"cannot create an index in {folder} ({error.strerror}); choose another folder"
            ) from error
        return cls(folder)

    @translated
    def _check_is_index(self) -> None:
        tables = {row[0] for row in self._connect().execute("SELECT name FROM sqlite_master")}
        if not tables >= OWN_TABLES:
            self.close()
            raise IndexMismatchError(
                f"{self.path} is not a Verbatim index (another program's database?);"
                " choose another --index folder"
            )

    @translated
    def _upgrade(self) -> None:
        """Bring an index of an older format up to date (nothing to do for a current one)."""
        create_or_upgrade(self._connect(), self.folder)

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open_read_only() if self.read_only else self._open_read_write()
            self._local.connection = connection
        return connection

    def _open_read_write(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        uri = self.path.absolute().as_uri()
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # WAL readers need a -shm file they can write; on a read-only folder without one,
            # read the file as it is (no writer can be running there).
            connection.close()
            connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        return connection

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- manifest ---------------------------------------------------------------------------

    @translated
    def manifest(self) -> dict[str, str]:
        """All manifest entries."""
        rows = self._connect().execute("SELECT key, value FROM manifest").fetchall()
        return dict(rows)

    @translated
    def check_or_write_manifest(self, expected: dict[str, str]) -> None:
        """Record the manifest of a new index, or fail if an existing one differs."""
        current = self.manifest()
        if not current.get("format_version"):
            with self._transaction() as connection:
                for key, value in {"format_version": str(FORMAT_VERSION), **expected}.items():
                    connection.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (key, value))
                connection.execute("INSERT OR IGNORE INTO manifest VALUES ('generation', '0')")
            return
        if (
            self.read_only
            and current["format_version"].isdigit()
            and int(current["format_version"]) < FORMAT_VERSION
        ):
            raise IndexMismatchError(
                f"index {self.path.parent} has format version {current['format_version']} and is read-only here:"
                f" open it once with write access to upgrade it to {FORMAT_VERSION} in place (nothing is embedded again)"
            )
        if current["format_version"] != str(FORMAT_VERSION):
            raise IndexMismatchError(
                f"index {self.path.parent} has format version {current['format_version']}, "
                f"this version of Verbatim reads {FORMAT_VERSION}: rebuild it in a new folder"
            )
        refuse_other_settings(
            current, expected, f"index {self.path.parent}", "ingest into a new index folder"
        )

    @translated
    def generation(self) -> int:
        """Counter bumped by every committed change; the FAISS file is tagged with it."""
        row = self._connect().execute("SELECT value FROM manifest WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    # -- writes -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole or rolled back whole."""
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            # After some errors (a full disk) SQLite has already rolled back: a second
            # ROLLBACK would replace the real error with "no transaction is active".
            if connection.in_transaction:
                with suppress(sqlite3.Error):  # the original error says more
                    connection.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: every read inside sees one committed state."""
        connection = self._connect()
        try:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise storage_error(error, self.folder) from error

    @translated
    def prune_vector_changes(self, upto: int) -> None:
        """Forget the vector changes up to seq `upto`, once a saved index holds them."""
        with self._transaction() as connection:
            prune(connection, upto)

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
    def add_sentence_vectors(self, document_id: str, vectors: Mapping[str, np.ndarray]) -> bool:
        """Store sentence vectors for a document, in one transaction; False when it is gone."""
        with self._transaction() as connection:
            row = connection.execute("SELECT key FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                return False
            sentence_vectors.insert(connection, int(row[0]), vectors)
        return True

    @translated
    def optimize_text_index(self) -> None:
        """Merge the full-text index's segments, and let SQLite refresh its query statistics."""
        with self._transaction() as connection:
            connection.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self._connect().execute("PRAGMA optimize")

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
                (
                    document.id,
                    document.source,
                    document.title,
                    document.text,
                    json.dumps(document.metadata),
                    json.dumps(list(document.page_starts)),
                    document.content_hash,
                    document.size_bytes,
                    document.added_at,
                    document.language,
                    document.script,
                ),
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
        locations = connection.execute(
            "SELECT start, label FROM locations WHERE document_key = ? ORDER BY start", (key,)
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
            locations=tuple(map(Location._make, locations)),
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

    @translated
    def delete_feedback(self, ids: Sequence[str] = (), who: str | None = None, before: str = "") -> int:
        """Delete feedback by id, by who gave it, or given before an ISO time; return how many went."""
        with self._transaction() as connection:
            return feedback_table.delete(connection, ids, who, before)

    @translated
    def add_feedback(self, given: Feedback, keep_from: str = "") -> Feedback:
        """Store feedback with its id, time and the cited documents' content hashes; return it.
        Feedback given before `keep_from` (an ISO time, the retention period's start) goes."""
        if self.read_only:
            raise StorageError(f"index {self.folder} is read-only here: feedback cannot be stored in it")
        # Not under the writer lock: an ingest holds that for minutes, and a feedback row touches
        # no document; SQLite orders it between the ingest's one-document transactions.
        with self._transaction() as connection:
            hashes = feedback_table.content_hashes(
                connection, [cited.document_id for cited in given.citations]
            )
            stamped = feedback_table.with_hashes(given, hashes)
            feedback_table.insert(connection, stamped)
            if keep_from:
                feedback_table.delete(connection, before=keep_from)
        return stamped

    @translated
    def log_question(self, asked: AskedQuestion, keep_from: str = "") -> AskedQuestion:
        """Append a question to the question log (questions asked before `keep_from` go); return it."""
        if self.read_only:
            raise StorageError(f"index {self.folder} is read-only here: questions cannot be logged in it")
        # Like feedback: one row, not under the writer lock an ingest holds for minutes.
        stamped = asked.stamped()
        with self._transaction() as connection:
            question_log.insert(connection, stamped)
            if keep_from:
                question_log.delete(connection, before=keep_from)
        return stamped

    @translated
    def asked_questions(self, since: str = "", limit: int | None = None) -> list[AskedQuestion]:
        """The question log from `since` (ISO date or time) on, oldest first."""
        return question_log.select(self._connect(), since, limit)

    @translated
    def question_statistics(self, since: str = "", top: int = 10) -> LogStatistics:
        """What the dashboard counts in the question log from `since` on (storage/question_log.py)."""
        with self.snapshot() as connection:
            return question_log.statistics(connection, since, top)

    @translated
    def delete_questions(
        self, answer_ids: Sequence[str] = (), who: str | None = None, before: str = ""
    ) -> int:
        """Delete logged questions by answer id, by who asked, or asked before an ISO time; return how many."""
        with self._transaction() as connection:
            return question_log.delete(connection, answer_ids, who, before)

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

    @staticmethod
    def _bump_generation(connection: sqlite3.Connection) -> None:
        connection.execute("UPDATE manifest SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # -- reads ------------------------------------------------------------------------------

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
        where, arguments = (
            ("", []) if scope is None else (f" WHERE d.key IN {_IN_SCOPE}", [scope.keys_json()])
        )
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
        locations = self._connect().execute(
            "SELECT start, label FROM locations WHERE document_key = ? ORDER BY start", (row[6],)
        )
        return Document(
            id=row[0],
            source=row[1],
            title=row[2],
            text=row[3],
            metadata=json.loads(row[4]),
            page_starts=tuple(json.loads(row[5])),
            locations=tuple(map(Location._make, locations)),
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

    @translated
    def sentence_vectors(self, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        """Vectors stored at ingest for those of the sentence texts that have one."""
        return sentence_vectors.lookup(self._connect(), texts, dimension)

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
            ("", []) if scope is None else (f" AND rowid IN {_CHUNKS_IN_SCOPE}", [scope.keys_json()])
        )
        rows = self._connect().execute(
            f"SELECT rowid, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?{where}"
            " ORDER BY bm25(chunks_fts) LIMIT ?",
            (match_expression, *arguments, limit),
        )
        return [(int(row[0]), float(row[1])) for row in rows]

    @translated
    def feedback(self, since: str = "", limit: int | None = None) -> list[Feedback]:
        """Stored feedback given at or after `since` (ISO date or time), oldest first."""
        return feedback_table.select(self._connect(), since, limit)

    @translated
    def document_state(self, document_id: str, source: str) -> CitationState:
        """Whether a document cited in feedback is stored as it was, changed since, or removed."""
        return feedback_table.document_state(self._connect(), document_id, source)

    @translated
    def find_passage(self, words: str) -> SourcePassage | None:
        """The first stored document holding the words (verbatim, or across any white space)."""
        return feedback_table.find_passage(self._connect(), words)

    @translated
    def has_chunks(self) -> bool:
        """Whether any chunk is stored (without counting them all)."""
        return self._connect().execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    @translated
    def language_counts(self) -> dict[str, int]:
        """How many documents each detected language has, most first (reads every document's row)."""
        rows = self._connect().execute(
            "SELECT language, count(*) FROM documents GROUP BY language ORDER BY count(*) DESC, language"
        )
        return {row[0]: int(row[1]) for row in rows}

    @translated
    def languages(self, scope: Scope | None = None) -> list[str]:
        """The distinct languages of the stored documents, in code order.

        Every search asks, so this hops from one language to the next in the language index
        instead of counting: at a million documents 0.05 ms, where counting took 30 ms.
        """
        if scope is not None:
            return list(scope.languages)  # found with the scope, once
        rows = self._connect().execute(_DISTINCT_LANGUAGES)
        return [row[0] for row in rows]

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
                f"SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN {_CHUNKS_IN_SCOPE}",
                (f'"{term}"', scope.keys_json()),
            ).fetchone()
            if row[0]:
                counts[term] = int(row[0])
        return counts

    @translated
    def counts(self, scope: Scope | None = None) -> tuple[int, int]:
        """Number of documents and of chunks (of the scope)."""
        if scope is not None:
            return len(scope.document_keys), len(scope.chunk_ids)
        connection = self._connect()
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = connection.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(documents), int(chunks)

    # -- grants and scopes (rag/storage/grants.py, rag/storage/scope.py) -------------------------

    @translated
    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document: what a reader's scope is found from."""
        return list(grants.document_rows(self._connect()))

    @translated
    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids."""
        keys = json.dumps(sorted(document_keys))
        rows = self._connect().execute(
            f"SELECT id FROM chunks WHERE document_key IN {_IN_SCOPE} ORDER BY id", (keys,)
        )
        chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
        # From the language index, which holds each row's key: the rows themselves hold the texts.
        languages = self._connect().execute(
            "SELECT DISTINCT language FROM documents INDEXED BY documents_language"
            f" WHERE key IN {_IN_SCOPE} ORDER BY language",
            (keys,),
        )
        return Scope(document_keys, chunk_ids, tuple(row[0] for row in languages))

    @translated
    def set_grant(self, source: str, read: frozenset[str] | None, set_by: str) -> None:
        """Narrow who may read a stored document (None: lift the narrowing)."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            grants.set_grant(connection, source, read, set_by)
            self._bump_generation(connection)

    @translated
    def set_grants(self, sources: Sequence[str], read: frozenset[str], set_by: str) -> None:
        """Narrow who may read each of these sources, in one transaction."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            for source in sources:
                grants.set_grant(connection, source, read, set_by)
            self._bump_generation(connection)

    @translated
    def export_grants(self) -> list[ExportedGrant]:
        """Every grant with who set it and when, by source (`rag copy`)."""
        return grants.exported_grants(self._connect())

    @translated
    def import_grants(self, copied: Sequence[ExportedGrant]) -> None:
        """Write grants read out of another index as they were set, in one transaction."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            grants.import_grants(connection, copied)
            self._bump_generation(connection)

    @translated
    def grants(self) -> dict[str, frozenset[str]]:
        """Every grant by source, stored documents or not."""
        return grants.all_grants(self._connect())

    @translated
    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API."""
        connection = self._connect()
        if not grants.has_grants_table(connection):
            return False
        return connection.execute("SELECT 1 FROM document_grants LIMIT 1").fetchone() is not None

    @translated
    def grant_of(self, source: str) -> frozenset[str] | None:
        """The groups a document's grant names, or None."""
        return grants.grant_of(self._connect(), source)

    # -- the audit trail (rag/storage/audit.py) --------------------------------------------------

    @translated
    def record(self, actor: str, action: AuditAction, detail: dict[str, object]) -> None:
        """Append one event to the audit trail, in its own transaction."""
        with self._transaction() as connection:
            audit.add_audit_table(connection)
            audit.append(connection, actor, action, detail)

    @translated
    def prune_audit(self, days: float, actor: str) -> tuple[str, int]:
        """Remove audit events older than `days` days: (the cutoff time, how many went)."""
        with self._transaction() as connection:
            audit.add_audit_table(connection)
            return audit.prune(connection, days, actor)

    @translated
    def audit_events(self, since: str | None = None, actor: str | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first."""
        return audit.events(self._connect(), since, actor)


def refuse_other_settings(
    current: Mapping[str, str], expected: Mapping[str, str], index: str, instead: str
) -> None:
    """Refuse an index whose manifest was built with other settings (model, dimension, chunking)
    than these, in either engine: `index` names it, `instead` says where else to write."""
    for key, value in expected.items():
        if current.get(key) != value:
            raise IndexMismatchError(
                f"{index} was built with {key}={current.get(key)!r}, not {value!r}: use the same setting, or {instead}"
            )


def _unless_same(search_text: str, text: str) -> str | None:
    """NULL when a chunk is found by its own text, so that text is not stored twice."""
    return None if search_text == text else search_text


def _create_database(folder: Path) -> None:
    """Make the folder's database whole, then put it in place in one step: a process that opens the
    folder meanwhile (several `rag serve` processes on an empty folder) finds either no database or
    all of it, never a half-made one. The first to put one in place wins; the others' are dropped."""
    path = folder / DATABASE_NAME
    made = folder / f".{DATABASE_NAME}.{os.getpid()}.{threading.get_ident()}.new"
    made.unlink(missing_ok=True)
    connection = sqlite3.connect(made, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        create_or_upgrade(connection, folder)
    finally:
        connection.close()  # the last connection folds its write-ahead log into the file
    try:
        if path.is_file() and path.stat().st_size == 0:  # what a crash at creation left before
            os.replace(made, path)
            return
        try:
            os.link(made, path)  # fails when another process put its database in place first
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(made, path)
    finally:
        made.unlink(missing_ok=True)
