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
rag/storage/database/: tables.py (making, upgrading, the manifest), reading.py, counting.py,
writing.py (a document's rows), exporting.py, searching.py, logs.py (feedback and the question
log), page_boxes.py, grants.py, audit.py, vacuuming.py; failures.py words the errors.
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

from rag.errors import IndexNotFoundError, StorageError
from rag.feedback import CitationState, Feedback, SourcePassage
from rag.storage import question_log
from rag.storage.audit import AuditAction, AuditEvent
from rag.storage.database import (
    audit,
    counting,
    exporting,
    failures,
    grants,
    hnsw,
    journal,
    logs,
    page_boxes,
    reading,
    schema,
    searching,
    tables,
    vacuuming,
    writing,
)
from rag.storage.database.schema import FORMAT_VERSION
from rag.storage.engine import public_location
from rag.storage.exported import ExportedDocument, ExportedGrant
from rag.storage.question_log import AskedQuestion, LogStatistics
from rag.storage.scope import Scope
from rag.storage.store import ChunkRecord, DocumentInfo, NewDocument, PagedFile
from rag.types import Document, PageGeometry

T = TypeVar("T")


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
        return reading.without_sentence_vectors(self._connect())

    @_translated
    def add_sentence_vectors(self, document_id: str, vectors: Mapping[str, np.ndarray]) -> bool:
        """Store sentence vectors for a document, in one transaction; False when it is gone."""
        return writing.add_sentence_vectors(self._connect(), document_id, vectors)

    def export_documents(self, dimension: int) -> Iterator[ExportedDocument]:
        """Every document with all that is stored for it, in the order they were added."""
        try:  # a generator: _translated would only wrap its making
            yield from exporting.documents(self._connect(), dimension, self._has_format_2())
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
        return page_boxes.paged_file(self._connect(), document_id, self._has_format_2())

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
        added = page_boxes.add(connection, source, text, geometry)
        if added:  # after the commit, as every change (writing.BUMP)
            connection.execute(writing.BUMP)
        return added

    # -- reads (storage/database/reading.py, counting.py) -----------------------------------------

    @_translated
    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]:
        """Map of each of these sources that is stored to the hash of the content it came from."""
        return reading.content_hashes(self._connect(), sources)

    @_translated
    def sources(self) -> list[str]:
        """All document sources, sorted."""
        return reading.sources(self._connect())

    @_translated
    def documents(self, scope: Scope | None = None) -> list[DocumentInfo]:
        """All documents (of the scope) with sizes and chunk counts, sorted by source."""
        return reading.documents(self._connect(), scope)

    @_translated
    def document(self, document_id: str, scope: Scope | None = None) -> Document:
        """The full document with the given id (or source); one outside the scope does not exist."""
        return reading.document(self._connect(), document_id, scope)

    @_translated
    def chunk_records(self, chunk_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their document's source, title and pages."""
        return reading.chunk_records(self._connect(), chunk_ids)

    @_translated
    def chunk_vectors(self, chunk_ids: Sequence[int], dimension: int) -> dict[int, np.ndarray]:
        """The stored vectors of those chunks that exist."""
        return reading.chunk_vectors(self._connect(), chunk_ids, dimension)

    def iter_vectors(self, dimension: int, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (row_ids, vectors) batches of every stored chunk vector, in chunk id order."""
        try:  # a generator: _translated would only wrap its making
            yield from reading.vectors(self._connect(), dimension, batch)
        except psycopg.Error as error:
            raise _storage_error(self.location, error) from error

    @_translated
    def sentence_vectors(self, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        """Vectors stored at ingest for those of the sentence texts that have one (as unit float32)."""
        return reading.sentence_vectors(self._connect(), texts, dimension)

    @_translated
    def sample_texts(self, count: int) -> list[str]:
        """The texts of up to `count` chunks, the same ones every time for the same chunks."""
        return reading.sample_texts(self._connect(), count)

    @_translated
    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids and languages."""
        return reading.scope_of(self._connect(), document_keys)

    @_translated
    def has_chunks(self) -> bool:
        """Whether any chunk is stored."""
        return counting.has_chunks(self._connect())

    @_translated
    def counts(self, scope: Scope | None = None) -> tuple[int, int]:
        """Number of documents and of chunks (of the scope)."""
        if scope is not None:
            return len(scope.document_keys), len(scope.chunk_ids)
        return counting.counts(self._connect())

    @_translated
    def language_counts(self) -> dict[str, int]:
        """How many documents each detected language has, most first."""
        return counting.language_counts(self._connect())

    @_translated
    def languages(self, scope: Scope | None = None) -> list[str]:
        """The distinct languages of the stored documents (of the scope), in code order."""
        if scope is not None:
            return list(scope.languages)  # found with the scope, once
        return counting.languages(self._connect())

    @_translated
    def term_document_counts(self, terms: Sequence[str], scope: Scope | None = None) -> dict[str, int]:
        """How many chunks (of the scope) hold each of the given terms (absent terms are left out)."""
        return counting.term_document_counts(self._connect(), terms, scope)

    @_translated
    def size_bytes(self) -> int:
        """Bytes the index's tables take, with their indexes and out-of-line values."""
        return counting.size_bytes(self._connect())

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
        """dense_search over the scope's chunks only (exactly, or through HNSW for a wide scope)."""
        return searching.scoped(self._connect(), query_vectors, k, scope, lambda: self.counts()[1])

    @_translated
    def exact_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """dense_search without the HNSW index: every vector read (what recall is measured against)."""
        connection = self._connect()
        try:
            with connection.transaction():
                connection.execute("SET LOCAL enable_indexscan = off")
                connection.execute("SET LOCAL enable_bitmapscan = off")
                return self.dense_search(query_vectors, k)
        except BaseException:
            self._local.ef_search = 0  # dense_search's set_config went with the failed transaction
            raise

    # -- upkeep for `rag optimize` (storage/database/vacuuming.py) ----------------------------------

    @_translated
    def vacuum(self) -> None:
        """Reclaim the rows of replaced and removed documents, and refresh the planner's statistics."""
        vacuuming.vacuum(self._connect())

    @_translated
    def prune_vector_journal(self, keep_days: float | None = None) -> dict[str, int]:
        """Remove the change journal's rows older than keep_days (None: journal.KEEP_DAYS; format 4:
        a no-op before), and vacuum it; return the floor followers now need and how many rows went."""
        if self.format_version() < schema.PRUNED_FORMAT:
            return {}
        return vacuuming.prune_journal(self._connect(), journal.KEEP_DAYS if keep_days is None else keep_days)

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
