"""PostgreSQL + pgvector storage: an index a team shares, written by many processes at once.

The same data model as the SQLite store (documents with their full text, chunks with offsets,
analysed terms, chunk and sentence vectors, locations, structure spans, a manifest), in one
database schema (the URL's search_path; several collections may share a database, one schema
each). Each document is written in one transaction; writers of the same source are serialised
by an advisory lock on it, so no lock file is needed. Lexical search is BM25 over a postings
table of the analysed terms, with SQLite FTS5's formula and constants, so both engines rank
alike; vector search is pgvector's HNSW index over inner product (vectors are unit vectors).
Every value reaches SQL as a bound parameter; the one number in DDL, the vector dimension, is
composed as a literal by psycopg.

This module holds the store's face, its connections and the catching of PostgreSQL's errors
(psycopg is imported here only); each method hands its connection to the SQL of its concern in
rag/storage/database/: tables.py (making, upgrading, the manifest), writing.py (a document's
rows), exporting.py, searching.py, logs.py (feedback and the question log), page_boxes.py,
grants.py, audit.py; failures.py words the errors.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql
from psycopg.adapt import Dumper

from rag.errors import IndexNotFoundError, NotFoundError, StorageError
from rag.feedback import CitationState, Feedback, SourcePassage
from rag.storage import question_log
from rag.storage.audit import AuditAction, AuditEvent
from rag.storage.database import (
    audit,
    exporting,
    failures,
    grants,
    hnsw,
    journal,
    logs,
    page_boxes,
    schema,
    searching,
    tables,
    writing,
)
from rag.storage.database.schema import FORMAT_VERSION
from rag.storage.engine import public_location
from rag.storage.exported import ExportedDocument, ExportedGrant
from rag.storage.question_log import AskedQuestion, LogStatistics
from rag.storage.scope import Scope
from rag.storage.sentence_vectors import text_hash
from rag.storage.store import ChunkRecord, DocumentInfo, NewDocument, PagedFile
from rag.types import Chunk, Document, Location, PageGeometry, StructureSpan

T = TypeVar("T")


# Every search asks which languages the index holds: hop from one to the next in the language
# index instead of reading every document's row.
_DISTINCT_LANGUAGES = """
WITH RECURSIVE found(language) AS (
    SELECT min(language) FROM documents
    UNION ALL
    SELECT (SELECT min(language) FROM documents WHERE language > found.language)
    FROM found WHERE found.language IS NOT NULL
)
SELECT language FROM found WHERE language IS NOT NULL
"""


def _storage_error(location: str, error: psycopg.Error) -> StorageError:
    """A one-line StorageError naming the database (not its password), with grants advice for a denied role."""
    return failures.storage_error(location, error, isinstance(error, psycopg.errors.InsufficientPrivilege))


def _translated(method: Callable[..., T]) -> Callable[..., T]:
    """PostgreSQL's errors as one-line StorageErrors that name the database (not its password)."""

    @functools.wraps(method)
    def wrapper(self: PostgresStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as error:
            raise _storage_error(self.location, error) from error

    return wrapper


class _VectorDumper(Dumper):
    """Sends writing.VectorBytes as they are, in binary (its oid: pgvector's `vector` type, set per connection)."""

    format = psycopg.pq.Format.BINARY

    def dump(self, obj: writing.VectorBytes) -> bytes:
        """The vector's binary form."""
        return obj.payload


class PostgresStore:
    """One index in a PostgreSQL database (its current schema): the truth, shared by many processes.

    Opening never writes: only `PostgresStore.create` (used by ingest) makes the tables.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = public_location(url)
        self._local = threading.local()
        self._has_log_tables = False  # known once seen (an index made before them has none)
        self._format_seen = 0  # the format version once it is this code's (it never goes back)
        if not self._has_tables():
            raise IndexNotFoundError(
                f"no index in {self.location}: create one with `rag ingest FILES --index {self.location}`"
            )

    @classmethod
    def create(cls, url: str, dimension: int, vectors: str = hnsw.FAISS) -> PostgresStore:
        """Open the index in the database, creating its tables (and pgvector) when missing; a new
        index is kept for `vectors` (database/hnsw.py: `faiss`, no HNSW index; or `hnsw`)."""
        store = cls.__new__(cls)
        store.url, store.location, store._local = url, public_location(url), threading.local()
        statements = sql.SQL(schema.TABLES + schema.LOG_TABLES).format(dimension=sql.Literal(int(dimension)))
        store._create_tables(statements, vectors)
        return cls(url)

    @_translated
    def _create_tables(self, statements: sql.Composed, vectors: str) -> None:
        """The tables of a new index, of this format; an index of an older one is upgraded with them."""
        tables.create(self._connect(), statements, vectors, self.location)

    @_translated
    def format_version(self) -> int:
        """The index's PostgreSQL format version (0 before its first manifest is written)."""
        if self._format_seen < FORMAT_VERSION:
            self._format_seen = schema.format_in(self._connect())
        return self._format_seen

    @_translated
    def upgrade(self) -> int:
        """Bring an index of an older format up to this code's in place, in one transaction with the
        manifest's new version (writers only: a reader never calls it); return the format it had."""
        found = self.format_version()
        if found >= FORMAT_VERSION or found == 0:
            return found
        try:
            found = tables.upgrade(self._connect(), self.location)
        except psycopg.errors.InsufficientPrivilege as error:
            raise failures.upgrade_denied(self.location, error, found) from error
        self._format_seen = 0
        return found

    def _has_format_2(self, what: str = "") -> bool:
        """Whether the index has format 2's tables; with `what`, a one-line error when it has not."""
        found = self.format_version()
        if found < 2 and what:
            raise schema.needs_upgrade(self.location, what, found, 2)
        return found >= 2

    @_translated
    def _has_tables(self) -> bool:
        """Whether this index's tables are in the URL's first schema."""
        return tables.present(self._connect())

    def _connect(self) -> psycopg.Connection[Any]:
        """This thread's connection, opened when it has none (autocommit: methods make their transactions)."""
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            try:
                connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as error:
                raise failures.cannot_connect(self.location, error) from error
            self._local.connection = connection
            self._local.ef_search = 0  # a new session has pgvector's default
            self._local.binary_vectors = False
        return connection

    def _writer(self) -> psycopg.Connection[Any]:
        """This thread's connection, able to send chunk vectors in pgvector's binary form."""
        connection = self._connect()
        if not self._local.binary_vectors:
            row = connection.execute("SELECT to_regtype('vector')::oid").fetchone()
            if not row or not row[0]:
                raise failures.no_vector_type(self.location)
            connection.adapters.register_dumper(
                writing.VectorBytes, type("VectorDumper", (_VectorDumper,), {"oid": int(row[0])})
            )
            self._local.binary_vectors = True
        return connection

    @_translated
    def with_connection(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """work(this thread's connection), its PostgreSQL errors one-line StorageErrors (`rag check`)."""
        return work(self._connect())

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            self._local.ef_search = 0
            self._local.binary_vectors = False

    # -- manifest (storage/database/tables.py) ----------------------------------------------------

    @_translated
    def manifest(self) -> dict[str, str]:
        """All manifest entries."""
        return tables.manifest(self._connect())

    @_translated
    def check_or_write_manifest(self, expected: dict[str, str]) -> None:
        """Record the manifest of a new index, or fail if an existing one differs."""
        tables.check_or_write_manifest(self._connect(), expected, self.location)

    @_translated
    def generation(self) -> int:
        """A counter that grows with every committed change (a sequence: writers never wait on it)."""
        return tables.generation(self._connect())

    # -- writes (storage/database/writing.py) ------------------------------------------------------

    @_translated
    def put_document(self, document: NewDocument) -> str:
        """Insert or replace a document and its chunks in one transaction; return its id."""
        rows = writing.rows_of_new(document)
        if rows.page_boxes and not self._has_format_2():  # format 1 keeps none
            rows = dataclasses.replace(rows, page_boxes=())
        writing.write(self._writer(), rows)
        return str(rows.values[0])

    @_translated
    def import_document(self, document: ExportedDocument) -> None:
        """Write a document read out of another index as it was stored (`rag copy`), replacing one
        of the same source, in one transaction: nothing is analysed or embedded again."""
        if document.page_boxes:
            self._has_format_2("page positions")
        writing.write(self._writer(), writing.rows_of_exported(document))

    @_translated
    def remove_document(self, source: str) -> int:
        """Delete a document and its chunks; return how many chunks went."""
        return writing.remove(self._connect(), source)

    @_translated
    def documents_without_sentence_vectors(self) -> list[str]:
        """Ids of the documents with text none of whose sentences has a stored vector."""
        rows = self._connect().execute(
            "SELECT id FROM documents d WHERE length(btrim(d.text)) > 0 AND NOT EXISTS"
            " (SELECT 1 FROM sentence_vectors s WHERE s.document_key = d.key) ORDER BY d.key"
        )
        return [str(row[0]) for row in rows]

    @_translated
    def add_sentence_vectors(self, document_id: str, vectors: Mapping[str, np.ndarray]) -> bool:
        """Store sentence vectors for a document, in one transaction; False when it is gone."""
        return writing.add_sentence_vectors(self._connect(), document_id, vectors)

    def export_documents(self, dimension: int) -> Iterator[ExportedDocument]:
        """Every document with all that is stored for it, in the order they were added."""
        try:
            connection = self._connect()
            keys = [int(row[0]) for row in connection.execute("SELECT key FROM documents ORDER BY key")]
            with_boxes = self._has_format_2()
            for key in keys:
                with connection.transaction():  # one document, as one commit left it
                    document = exporting.exported(connection, key, dimension, with_boxes)
                if document is not None:  # removed meanwhile
                    yield document
        except psycopg.Error as error:
            raise _storage_error(self.location, error) from error

    # -- feedback and the question log (storage/database/logs.py) -------------------------------------

    def _log_tables(self, create: bool) -> bool:
        """Whether the feedback and question log tables are there; made first when `create` (a role
        that may not create tables writes to them once they are there)."""
        if not self._has_log_tables:
            self._has_log_tables = logs.tables_found(self._connect())
            if create and not self._has_log_tables:
                self._has_log_tables = logs.create_tables(self._connect())
                if not self._has_log_tables:
                    raise failures.log_tables_elsewhere(self.location)
        return self._has_log_tables

    @_translated
    def add_feedback(self, given: Feedback, keep_from: str = "") -> Feedback:
        """Store feedback with its id, time and the cited documents' content hashes; return it.
        Feedback given before `keep_from` (an ISO time, the retention period's start) goes."""
        self._log_tables(create=True)
        return logs.add_feedback(self._connect(), given, keep_from)

    @_translated
    def feedback(self, since: str = "", limit: int | None = None) -> list[Feedback]:
        """Stored feedback given at or after `since` (ISO date or time), oldest first."""
        return logs.feedback(self._connect(), since, limit) if self._log_tables(create=False) else []

    @_translated
    def delete_feedback(self, ids: Sequence[str] = (), who: str | None = None, before: str = "") -> int:
        """Delete feedback by id, by who gave it, or given before an ISO time; return how many went."""
        if not self._log_tables(create=False):
            return 0
        return logs.delete(self._connect(), "feedback", ids, who, before)

    @_translated
    def document_state(self, document_id: str, source: str) -> CitationState:
        """Whether a document cited in feedback is stored as it was, changed since, or removed."""
        return logs.document_state(self._connect(), document_id, source)

    @_translated
    def find_passage(self, words: str) -> SourcePassage | None:
        """The first stored document holding the words (verbatim, or across any white space)."""
        return logs.find_passage(self._connect(), words)

    @_translated
    def log_question(self, asked: AskedQuestion, keep_from: str = "") -> AskedQuestion:
        """Append a question to the question log (questions asked before `keep_from` go); return it."""
        self._log_tables(create=True)
        return logs.log_question(self._connect(), asked, keep_from)

    @_translated
    def asked_questions(self, since: str = "", limit: int | None = None) -> list[AskedQuestion]:
        """The question log from `since` (ISO date or time) on, oldest first."""
        return logs.asked_questions(self._connect(), since, limit) if self._log_tables(create=False) else []

    @_translated
    def question_statistics(self, since: str = "", top: int = 10) -> LogStatistics:
        """What the dashboard counts in the question log from `since` on (storage/question_log.py)."""
        if not self._log_tables(create=False):
            return question_log.counted([], [], [], {})
        return logs.question_statistics(self._connect(), since, top)

    @_translated
    def delete_questions(
        self, answer_ids: Sequence[str] = (), who: str | None = None, before: str = ""
    ) -> int:
        """Delete logged questions by answer id, by who asked, or asked before an ISO time; return how many."""
        if not self._log_tables(create=False):
            return 0
        return logs.delete(self._connect(), "question_log", answer_ids, who, before)

    # -- page positions for the page viewer (storage/database/page_boxes.py) -------------------------

    @_translated
    def paged_file(self, document_id: str) -> PagedFile:
        """Where the document with this id (or source) came from, and whether its pages have boxes."""
        connection = self._connect()
        row = connection.execute(
            "SELECT key, id, source, content_hash, metadata ->> 'type', jsonb_array_length(page_starts)"
            " FROM documents WHERE id = %s OR source = %s LIMIT 1",
            (document_id, document_id),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {document_id!r} in the index")
        has_geometry = self._has_format_2() and page_boxes.has_any(connection, int(row[0]))
        return PagedFile(int(row[0]), row[1], row[2], row[3], row[4] or "", int(row[5]), has_geometry)

    @_translated
    def page_runs(self, paged: PagedFile, page: int) -> bytes | None:
        """The encoded word boxes of one page (rag.pages.geometry.decode); None when it has none."""
        return page_boxes.load(self._connect(), paged.key, page) if self._has_format_2() else None

    @_translated
    def documents_without_page_boxes(self) -> list[str]:
        """Sources of the PDFs and pictures that have no page positions, oldest first."""
        self._has_format_2("page positions")
        return page_boxes.without_boxes(self._connect())

    @_translated
    def add_page_boxes(self, source: str, text: str, geometry: Sequence[PageGeometry]) -> bool:
        """Store page positions for a document whose stored text is `text`, in one transaction;
        False when it is gone or its text is not that (another file's positions never land)."""
        self._has_format_2("page positions")
        connection = self._connect()
        with connection.transaction():
            row = connection.execute(
                "SELECT key, text FROM documents WHERE source = %s FOR UPDATE", (source,)
            ).fetchone()
            if row is None or row[1] != text:
                return False
            page_boxes.insert(connection.cursor(), page_boxes.rows_of(int(row[0]), geometry))
        connection.execute(writing.BUMP)
        return True

    # -- reads ------------------------------------------------------------------------------

    @_translated
    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]:
        """Map of each of these sources that is stored to the hash of the content it came from."""
        rows = self._connect().execute(
            "SELECT source, content_hash FROM documents WHERE source = ANY(%s)", (list(sources),)
        )
        return dict(rows.fetchall())

    @_translated
    def sources(self) -> list[str]:
        """All document sources, sorted."""
        return [row[0] for row in self._connect().execute("SELECT source FROM documents ORDER BY source")]

    @_translated
    def documents(self, scope: Scope | None = None) -> list[DocumentInfo]:
        """All documents (of the scope) with sizes and chunk counts, sorted by source."""
        rows = self._connect().execute(
            "SELECT d.id, d.source, d.title, d.size_bytes, length(d.text), count(c.id),"
            " to_char(d.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), d.language, d.script"
            " FROM documents d LEFT JOIN chunks c ON c.document_key = d.key"
            " WHERE %(all)s OR d.key = ANY(%(keys)s) GROUP BY d.key ORDER BY d.source",
            _scope_parameters(scope),
        )
        return [DocumentInfo(*row) for row in rows]

    @_translated
    def document(self, document_id: str, scope: Scope | None = None) -> Document:
        """The full document with the given id (or source); one outside the scope does not exist."""
        connection = self._connect()
        row = connection.execute(
            "SELECT id, source, title, text, metadata, page_starts, key, language FROM documents"
            " WHERE id = %s OR source = %s LIMIT 1",
            (document_id, document_id),
        ).fetchone()
        if row is None or (scope is not None and row[6] not in scope.document_keys):
            raise NotFoundError(f"no document {document_id!r} in the index")
        locations = connection.execute(
            "SELECT start, label FROM locations WHERE document_key = %s ORDER BY start", (row[6],)
        )
        spans = connection.execute(
            'SELECT kind, start, "end" FROM structure_spans WHERE document_key = %s ORDER BY start', (row[6],)
        )
        return Document(
            id=row[0],
            source=row[1],
            title=row[2],
            text=row[3],
            metadata=row[4],
            page_starts=tuple(row[5]),
            locations=tuple(map(Location._make, locations)),
            language=row[7],
            structure=tuple(map(StructureSpan._make, spans)),
        )

    @_translated
    def chunk_records(self, chunk_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their document's source, title and pages."""
        if not chunk_ids:
            return {}
        rows = self._connect().execute(
            'SELECT c.id, d.id, c.start, c."end", c.text, d.source, d.title, d.page_starts,'
            " (SELECT label FROM locations l WHERE l.document_key = d.key AND l.start <= c.start"
            "  ORDER BY l.start DESC LIMIT 1)"
            " FROM chunks c JOIN documents d ON d.key = c.document_key WHERE c.id = ANY(%s)",
            (list(chunk_ids),),
        )
        return {row[0]: ChunkRecord(Chunk(*row[:5]), row[5], row[6], tuple(row[7]), row[8]) for row in rows}

    @_translated
    def chunk_vectors(self, chunk_ids: Sequence[int], dimension: int) -> dict[int, np.ndarray]:
        """The stored vectors of those chunks that exist."""
        if not chunk_ids:
            return {}
        rows = self._connect().execute(
            "SELECT id, vector::real[] FROM chunks WHERE id = ANY(%s)", (list(chunk_ids),)
        )
        return {int(row[0]): np.asarray(row[1], dtype=np.float32) for row in rows if len(row[1]) == dimension}

    def iter_vectors(self, dimension: int, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (row_ids, vectors) batches of every stored chunk vector, in chunk id order."""
        try:
            connection = self._connect()
            with connection.transaction(), connection.cursor(name="vectors") as cursor:
                cursor.execute("SELECT id, vector::real[] FROM chunks ORDER BY id")
                while rows := cursor.fetchmany(batch):
                    row_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
                    yield (
                        row_ids,
                        np.asarray([row[1] for row in rows], dtype=np.float32).reshape(-1, dimension),
                    )
        except psycopg.Error as error:
            raise _storage_error(self.location, error) from error

    @_translated
    def sentence_vectors(self, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        """Vectors stored at ingest for those of the sentence texts that have one (as unit float32)."""
        by_hash = {text_hash(text): text for text in texts}
        if not by_hash:
            return {}
        rows = [
            (hash_value, blob)
            for hash_value, blob in self._connect().execute(
                "SELECT text_hash, vector FROM sentence_vectors WHERE text_hash = ANY(%s)", (list(by_hash),)
            )
            if len(blob) == 2 * dimension
        ]
        if not rows:
            return {}
        vectors = np.frombuffer(b"".join(bytes(blob) for _, blob in rows), dtype=np.float16)
        vectors = vectors.reshape(len(rows), dimension).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return {by_hash[hash_value]: vector for (hash_value, _), vector in zip(rows, vectors, strict=True)}

    @_translated
    def sample_texts(self, count: int) -> list[str]:
        """The texts of up to `count` chunks, the same ones every time for the same chunks."""
        rows = self._connect().execute("SELECT text FROM chunks ORDER BY md5(id::text) LIMIT %s", (count,))
        return [str(row[0]) for row in rows]

    @_translated
    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids and languages."""
        keys = sorted(document_keys)
        connection = self._connect()
        rows = connection.execute("SELECT id FROM chunks WHERE document_key = ANY(%s) ORDER BY id", (keys,))
        chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
        languages = connection.execute(
            "SELECT DISTINCT language FROM documents WHERE key = ANY(%s) ORDER BY language", (keys,)
        )
        return Scope(document_keys, chunk_ids, tuple(row[0] for row in languages))

    @_translated
    def has_chunks(self) -> bool:
        """Whether any chunk is stored."""
        return self._connect().execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    @_translated
    def counts(self, scope: Scope | None = None) -> tuple[int, int]:
        """Number of documents and of chunks (of the scope)."""
        if scope is not None:
            return len(scope.document_keys), len(scope.chunk_ids)
        row = (
            self._connect()
            .execute("SELECT count(*), coalesce(sum(chunks), 0) FROM document_terms")
            .fetchone()
        )
        assert row is not None
        return int(row[0]), int(row[1])

    @_translated
    def language_counts(self) -> dict[str, int]:
        """How many documents each detected language has, most first."""
        rows = self._connect().execute(
            "SELECT language, count(*) FROM documents GROUP BY language ORDER BY count(*) DESC, language"
        )
        return {row[0]: int(row[1]) for row in rows}

    @_translated
    def languages(self, scope: Scope | None = None) -> list[str]:
        """The distinct languages of the stored documents (of the scope), in code order."""
        if scope is not None:
            return list(scope.languages)  # found with the scope, once
        rows = self._connect().execute(_DISTINCT_LANGUAGES)
        return [row[0] for row in rows]

    @_translated
    def term_document_counts(self, terms: Sequence[str], scope: Scope | None = None) -> dict[str, int]:
        """How many chunks (of the scope) hold each of the given terms (absent terms are left out)."""
        if scope is None:
            rows = self._connect().execute(
                "SELECT term, count(*) FROM chunk_terms WHERE term = ANY(%s) GROUP BY term",
                (list(dict.fromkeys(terms)),),
            )
        else:
            rows = self._connect().execute(
                "SELECT t.term, count(*) FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id"
                " WHERE t.term = ANY(%s) AND c.document_key = ANY(%s) GROUP BY t.term",
                (list(dict.fromkeys(terms)), sorted(scope.document_keys)),
            )
        return {row[0]: int(row[1]) for row in rows}

    @_translated
    def size_bytes(self) -> int:
        """Bytes the index's tables take, with their indexes and out-of-line values."""
        row = (
            self._connect()
            .execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    # -- searches (storage/database/searching.py) -------------------------------------------------

    @_translated
    def lexical_search(
        self, terms: Sequence[str], limit: int, scope: Scope | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) of the chunks (of the scope) holding any of the
        analysed terms; as in FTS5, N and the average length are the whole index's."""
        return searching.lexical(self._connect(), terms, limit, scope)

    @_translated
    def dense_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(cosines, chunk ids) of the k nearest chunks of each query; -1 ids pad a short list."""
        connection = self._connect()
        if getattr(self._local, "ef_search", 0) < k:  # once per connection: a round trip less a search
            ef_search = max(searching.MIN_EF_SEARCH, k)
            connection.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
            self._local.ef_search = ef_search
        return searching.nearest(connection, query_vectors, k)

    @_translated
    def scoped_search(self, query_vectors: np.ndarray, k: int, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """dense_search over the scope's chunks only.

        pgvector 0.6.2 filters HNSW's candidates after the index hands them over (it has no iterative
        scan), so a filter keeping a small share of the chunks would leave fewer than k: a narrow scope
        is searched exactly over its own chunks (found through chunks_document), a wide one through
        HNSW with ef_search raised by one over the share, and exactly again when that still comes short.
        """
        chunks = len(scope.chunk_ids)
        keys = sorted(scope.document_keys)
        ef_search = searching.scope_ef_search(chunks, chunks / max(self.counts()[1], 1), k)
        if not ef_search:
            return self._filtered_search(query_vectors, k, keys, 0)
        scores, row_ids = self._filtered_search(query_vectors, k, keys, ef_search)
        short = np.flatnonzero((row_ids == -1).any(axis=1)) if chunks >= k else np.array([], dtype=np.int64)
        if len(short):
            scores[short], row_ids[short] = self._filtered_search(query_vectors[short], k, keys, 0)
        return scores, row_ids

    def _filtered_search(
        self, query_vectors: np.ndarray, k: int, keys: list[int], ef_search: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest chunks of these documents: through HNSW keeping ef_search candidates, or
        (ef_search 0) exactly, with index scans off so HNSW cannot be chosen."""
        connection = self._connect()
        with connection.transaction():
            if ef_search:
                connection.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
            else:
                connection.execute("SET LOCAL enable_indexscan = off")
            return searching.nearest(connection, query_vectors, k, keys)

    @_translated
    def exact_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """dense_search without the HNSW index: every vector read (what recall is measured against)."""
        connection = self._connect()
        with connection.transaction():
            connection.execute("SET LOCAL enable_indexscan = off")
            connection.execute("SET LOCAL enable_bitmapscan = off")
            return self.dense_search(query_vectors, k)

    # -- upkeep for `rag optimize` ----------------------------------------------------------

    @_translated
    def vacuum(self) -> None:
        """Reclaim the rows of replaced and removed documents, and refresh the planner's statistics."""
        connection = self._connect()
        for table in ("documents", "chunks", "chunk_terms", "document_terms", "sentence_vectors"):
            connection.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))

    @_translated
    def prune_vector_journal(self, keep_days: float | None = None) -> dict[str, int]:
        """Remove the change journal's rows older than keep_days (None: journal.KEEP_DAYS; format 4:
        a no-op before), and vacuum it; return the floor followers now need and how many rows went."""
        if self.format_version() < schema.PRUNED_FORMAT:
            return {}
        connection = self._connect()
        pruned = journal.prune(connection, journal.KEEP_DAYS if keep_days is None else keep_days)
        connection.execute("VACUUM (ANALYZE) vector_journal")
        return pruned

    # -- readers' scopes (rag/access/scoping.py) --------------------------------------------------

    @_translated
    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API (never, in format 1)."""
        return self._has_format_2() and grants.has_grants(self._connect())

    @_translated
    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document: what a reader's scope is found from."""
        return grants.document_rows(self._connect(), self._has_format_2())

    @_translated
    def set_grant(self, source: str, read: frozenset[str] | None, set_by: str) -> None:
        """Narrow who may read a stored document (None: lift the narrowing)."""
        self.set_grants([source], read, set_by)

    @_translated
    def set_grants(self, sources: Sequence[str], read: frozenset[str] | None, set_by: str) -> None:
        """Narrow who may read each of these sources, in one transaction; the change counter is
        bumped after it commits (writing.BUMP), so every reader's scope is found again with the grant."""
        self._has_format_2("narrowing who may read a document")
        connection = self._connect()
        with connection.transaction():
            grants.set_grants(connection, sources, read, set_by)
        connection.execute(writing.BUMP)

    @_translated
    def export_grants(self) -> list[ExportedGrant]:
        """Every grant with who set it and when, by source (`rag copy`; none in format 1)."""
        return grants.exported_grants(self._connect()) if self._has_format_2() else []

    @_translated
    def import_grants(self, copied: Sequence[ExportedGrant]) -> None:
        """Write grants read out of another index as they were set, in one transaction."""
        self._has_format_2("narrowing who may read a document")
        connection = self._connect()
        with connection.transaction():
            grants.import_grants(connection, copied)
        connection.execute(writing.BUMP)

    @_translated
    def grants(self) -> dict[str, frozenset[str]]:
        """Every grant by source, stored documents or not."""
        return grants.all_grants(self._connect()) if self._has_format_2() else {}

    @_translated
    def grant_of(self, source: str) -> frozenset[str] | None:
        """The groups a document's grant names, or None."""
        return grants.grant_of(self._connect(), source) if self._has_format_2() else None

    # -- the audit trail (storage/database/audit.py) -----------------------------------------------

    @_translated
    def record(self, actor: str, action: AuditAction, detail: dict[str, object]) -> None:
        """Append one event to the audit trail."""
        self._has_format_2("the audit trail")
        audit.append(self._connect(), actor, action, detail)

    @_translated
    def prune_audit(self, days: float, actor: str) -> tuple[str, int]:
        """Remove audit events older than `days` days: (the cutoff time, how many went)."""
        self._has_format_2("the audit trail")
        connection = self._connect()
        with connection.transaction():
            return audit.prune(connection, days, actor)

    @_translated
    def audit_events(self, since: str | None = None, actor: str | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first."""
        self._has_format_2("the audit trail")
        return audit.events(self._connect(), since, actor)


class PostgresVectors:
    """pgvector's HNSW search over the chunk vectors (scores are exact cosines of the candidates)."""

    kind = "hnsw"
    exact_scores = True  # pgvector scores its candidates on the stored vectors

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def search(
        self, query_vectors: np.ndarray, k: int, scope: Scope | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks of each query (of the scope's documents)."""
        if scope is None:
            return self.store.dense_search(query_vectors, k)
        return self.store.scoped_search(query_vectors, k, scope)


def _scope_parameters(scope: Scope | None) -> dict[str, object]:
    """A scope bound as `%(all)s OR key = ANY(%(keys)s)`."""
    return {"all": scope is None, "keys": [] if scope is None else sorted(scope.document_keys)}
