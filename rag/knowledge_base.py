"""KnowledgeBase: the public entry point tying storage, retrieval and answering together."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.access.identity import Actor
from rag.access.policy import OPEN, CollectionRule
from rag.access.scoping import ScopeCache
from rag.answer.asking import answer_stream, on_final
from rag.answer.lexical import TermStatistics
from rag.answer.question import AskOptions, passage_count, retrieval_mode
from rag.embedding import CrossEncoderScorer, Embedder, make_embedder
from rag.embedding.reuse import ReusingEmbedder
from rag.errors import RagError
from rag.feedback import Feedback
from rag.pages import images
from rag.search.hybrid import HybridRetriever
from rag.search.rerank import Reranker, rerank
from rag.search.retriever import Retriever
from rag.settings import ENGINES, RetrievalMode, Settings, default_index_dir
from rag.storage import logbook, opened, upkeep
from rag.storage.database.follower import DatabaseVectors
from rag.storage.engine import DocumentStore, FolderVectors, VectorSearch, is_database_url, public_location
from rag.storage.integrity import IndexCheck
from rag.storage.question_log import AskedQuestion, LogStatistics, asked_about
from rag.storage.scope import Scope
from rag.storage.store import DocumentInfo, PagedFile, Store
from rag.storage.vectors.index import VectorIndex
from rag.terms import without_surrogates
from rag.types import Answer, BuildProgress, Document, IngestReport, Passage, ProgressCallback, TextItem

if TYPE_CHECKING:
    from rag.ingest.pipeline import Ingestor
    from rag.ingest.writer import IndexWriter
    from rag.storage.postgres import PostgresStore


def open_index(
    path: str | Path | None = None, settings: Settings | None = None, embedder: Embedder | None = None
) -> KnowledgeBase:
    """Open the index at path, a folder or a postgresql:// URL (RAG_INDEX or ./index by default);
    only ingest creates one."""
    if path is None:
        path = os.environ.get("RAG_INDEX") or default_index_dir()
    return KnowledgeBase(path if is_database_url(path) else Path(path), settings, embedder)


class KnowledgeBase:
    """One index (a folder, or a PostgreSQL database): ingest documents, search passages, answer
    questions with quotes."""

    def __init__(
        self, folder: Path | str, settings: Settings | None = None, embedder: Embedder | None = None
    ) -> None:
        # A postgresql:// URL stores the index in that database (the PostgreSQL engine).
        self.url = folder if isinstance(folder, str) and is_database_url(folder) else None
        folder = Path(folder)
        if self.url is None and folder.exists() and not folder.is_dir():
            raise RagError(f"{folder} is a file, not an index folder")
        self.folder = folder
        self.location = public_location(self.url) if self.url is not None else str(folder)
        # Nothing is written here: a missing index is created by the first ingest.
        self._store: DocumentStore | None = opened.open_existing(self.folder, self.url)
        recorded = self._store.manifest() if self._store is not None else {}
        self.settings = opened.resolved(
            settings or Settings.from_env(), embedder.name if embedder else None, recorded, self._store
        )
        self.embedder = embedder or make_embedder(
            self.model_name,
            self.settings.batch_size,
            self.settings.embedding_backend,
            self.settings.threads,
        )
        self._dimension = opened.recorded_dimension(recorded, self.location)
        self._vectors: VectorIndex | None = None
        self._follower: DatabaseVectors | None = None  # a PostgreSQL index's FAISS, when chosen
        # Loaded at the first search that needs it; any object with score(query, texts) will do.
        self.reranker: Reranker | None = (
            CrossEncoderScorer(self.settings.reranker) if self.settings.reranker else None
        )
        # Set on the views for_reader makes: whose questions they answer, under which rule.
        self._reader: tuple[Actor, CollectionRule] | None = None
        self._scopes = ScopeCache()  # shared with those views

    def for_reader(self, actor: Actor, rule: CollectionRule = OPEN) -> KnowledgeBase:
        """This index as one caller may see it: search, answers, documents and counts hold only
        the documents the rule lets them read, as if the others did not exist.

        The view shares the store, the vector index and the model; it is made per request.
        """
        if self._store is not None:
            _ = self.vectors  # made once, here, so that every view shares it
            if self.url is not None:
                self._vector_search()  # a PostgreSQL index's follower too (made, not yet built)
        view = copy.copy(self)
        view._reader = (actor, rule)
        return view

    @property
    def reader(self) -> Actor | None:
        """Whose view this is (None: the whole index)."""
        return self._reader[0] if self._reader is not None else None

    def _scope(self) -> Scope | None:
        """The documents this view may see; None for the whole index."""
        if self._reader is None or self._store is None:
            return None
        return self._scopes.scope(self.store, *self._reader)

    @property
    def exists(self) -> bool:
        """Whether the folder or database holds an index yet (the first ingest creates it)."""
        return self._store is not None

    @property
    def store(self) -> DocumentStore:
        """The index's store; a missing index is a one-line error."""
        if self._store is None:
            # Raises IndexNotFoundError, unless the index was made meanwhile.
            self._store = self._postgres_store() if self.url is not None else Store(self.folder)
        return self._store

    def _postgres_store(self, create: bool = False) -> PostgresStore:
        """The PostgreSQL store of a database URL (psycopg is imported only then)."""
        from rag.storage.postgres import PostgresStore

        assert self.url is not None
        if isinstance(self._store, PostgresStore):
            return self._store
        if create:
            return PostgresStore.create(self.url, self.dimension, self.settings.postgres_vectors)
        return PostgresStore(self.url)

    def sqlite_store(self) -> Store:
        """The SQLite store of an index folder: what only a folder has (its FAISS index's journal,
        renames without embedding again) is a one-line error on a PostgreSQL index."""
        store = self.store
        if not isinstance(store, Store):
            raise RagError(f"{self.location} is a PostgreSQL index: this command needs an index folder")
        return store

    def engine_store(self) -> Store | PostgresStore:
        """The index's store as its engine has it, either engine: what both keep beyond the
        DocumentStore protocol (grants, the audit trail, page positions, feedback, the question log)."""
        store = self.store
        return store if isinstance(store, Store) else self._postgres_store()

    def create(self) -> None:
        """Create the index (a folder and its database, or the tables) if it does not exist yet."""
        if self._store is None:
            self._store = (
                self._postgres_store(create=True) if self.url is not None else Store.create(self.folder)
            )

    @property
    def model_name(self) -> str:
        """The embedding model this index uses."""
        return str(self.settings.embedding_model)

    @property
    def dimension(self) -> int:
        """Vector length, from the manifest or, for a new index, from the model."""
        if self._dimension is None:
            self._dimension = self.embedder.dimension
        return self._dimension

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index of an index folder, created on first use."""
        if self._vectors is None:
            self._vectors = VectorIndex(
                self.folder, self.dimension, self.settings.approximate_above, self.embedder.embed
            )
        return self._vectors

    def _vector_search(self) -> VectorSearch:
        """Nearest chunk vectors: FAISS following SQLite, or pgvector in the database."""
        if self.url is not None:
            from rag.storage.postgres import PostgresVectors

            store = self._postgres_store()
            if self._follower is None:
                self._follower = opened.follower(store, self)  # None: pgvector searches
            return self._follower if self._follower is not None else PostgresVectors(store)
        return FolderVectors(self.vectors, self.sqlite_store())

    def follow_database(self, progress: BuildProgress | None = None) -> dict[str, Any] | None:
        """Build this process's FAISS index over a PostgreSQL index's vectors now, or catch it up with
        the change journal: a server does this before its first question (which would otherwise wait
        for the build) and while idle (so it never falls behind the journal's pruning). Return what
        the index is now (kind, vectors, from_saved_copy, ...); None when there is nothing to
        follow: a folder, or an index searched through pgvector's HNSW."""
        if self.url is None:
            return None
        vectors = self._vector_search()
        if not isinstance(vectors, DatabaseVectors):
            return None
        vectors.sync(progress)
        return vectors.describe()

    def prune_database_journal(self) -> dict[str, int] | None:
        """Prune a PostgreSQL index's change journal to Settings.journal_days, as `rag optimize` does,
        when this role may; None for a folder or a role that may only read."""
        if self.url is None:
            return None
        return upkeep.prune_journal(self._postgres_store(), self.settings.journal_days)

    @property
    def retriever(self) -> Retriever:
        """The retriever over this index."""
        return self._retriever(self.question_embedder())

    def _retriever(self, reader: Embedder) -> HybridRetriever:
        return HybridRetriever(self.store, self._vector_search(), reader, self.settings, self._scope())

    # -- writing ----------------------------------------------------------------------------

    def _writing(self, index_progress: BuildProgress | None = None) -> AbstractContextManager[None]:
        return opened.writing(self, index_progress)

    def _ingestor(self) -> Ingestor:
        # Imported here: questions never load the ingest machinery and its file parsers.
        from rag.ingest import assembly

        return assembly.ingestor(self)

    def ingest(
        self,
        paths: Sequence[str | Path] | str | Path,
        prune: bool = False,
        progress: ProgressCallback | None = None,
        index_progress: BuildProgress | None = None,
        engine: str = "local",
        ray_address: str | None = None,
    ) -> IngestReport:
        """Ingest files and folders incrementally; prune drops documents whose files are gone.

        index_progress hears of a vector index rebuild, when the ingest makes one due. With
        engine "ray", reading, chunking and embedding run as a Ray Data pipeline, on the cluster
        at ray_address ($RAY_ADDRESS) or on a Ray runtime started on this machine.
        """
        if engine not in ENGINES:
            raise RagError(f"unknown ingest engine {engine!r}: use one of {', '.join(ENGINES)}")
        if isinstance(paths, str | Path):
            paths = [paths]
        files = [Path(path) for path in paths]
        if engine == "ray":
            # Optional and slow to import.
            from rag.ingest.ray_engine import WorkerModel, check_ray, ingest_on_ray

            check_ray(ray_address)  # before anything is locked, created or drawn
            model = WorkerModel(self.model_name, self.settings.embedding_backend, self.settings.batch_size)
            with self._writing(index_progress):
                return ingest_on_ray(self._ingestor(), files, model, prune, progress, ray_address)
        with self._writing(index_progress):
            return self._ingestor().ingest_files(files, prune, progress)

    def add_texts(
        self,
        items: Sequence[TextItem],
        progress: ProgressCallback | None = None,
        index_progress: BuildProgress | None = None,
    ) -> IngestReport:
        """Ingest documents given as text, keyed by their source name."""
        with self._writing(index_progress):
            return self._ingestor().ingest_texts(items, progress)

    @contextmanager
    def writing(self, index_progress: BuildProgress | None = None) -> Iterator[IndexWriter]:
        """Hold the write lock for a pass of adds, renames and removals (`rag sync`)."""
        from rag.ingest.writer import IndexWriter

        with self._writing(index_progress):
            yield IndexWriter(self._ingestor())

    def remove(self, source: str) -> int:
        """Remove a document by source (path, file name or unique suffix); return its chunk count."""
        match = self.resolve_source(source)
        with self._writing():
            return self.store.remove_document(match)

    def resolve_source(self, source: str) -> str:
        """The stored source a user's name for a document refers to."""
        scope = self._scope()
        sources = self.store.sources() if scope is None else [info.source for info in self.documents()]
        return opened.stored_source(sources, source, self.location)

    # -- reading ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: Embedder | None = None,
    ) -> list[Passage]:
        """The k passages most related to the query (hybrid, dense or lexical retrieval).

        embedder: one from question_embedder(), when the answer to a question reuses its vector.
        """
        query = without_surrogates(query)  # tokenizers refuse lone surrogates
        count = passage_count(k, self.settings)
        chosen = retrieval_mode(mode, self.settings)
        scope = self._scope()
        if not self.store.has_chunks() or (scope is not None and not len(scope.chunk_ids)):
            return []
        retriever = self._retriever(embedder or self.question_embedder())
        if self.reranker is None:
            return retriever.search(query, count, chosen)
        fused = retriever.search(query, max(count, self.settings.rerank_depth), chosen)
        return rerank(query, fused, self.reranker, count)

    def ask(self, question: str, options: AskOptions | None = None) -> Answer:
        """Answer with verbatim quotes of the documents, or refuse and show the closest passages."""
        *_, final = self.ask_stream(question, options)
        return final

    def ask_stream(self, question: str, options: AskOptions | None = None) -> Iterator[Answer]:
        """Yield growing partial Answers as they are produced; the last one is final.

        A question that names where it came from (options.channel: ui, api, mcp, cli) is written
        to the question log once answered; evaluation runs and library calls without one are not.
        """
        answers = answer_stream(question, self, options)
        if options is None or not options.channel:
            return answers
        reader = self.reader
        # The folder's owner is no one in particular: a person or a key is named.
        known = reader is not None and reader.kind != "local"
        who = options.asked_by or (reader.name if known and reader is not None else "")
        channel = options.channel
        return on_final(answers, lambda answer, ms: self.log_question(asked_about(answer, ms, who, channel)))

    def log_question(self, asked: AskedQuestion) -> None:
        """Append a question to the question log; older ones than Settings.question_log_days go.

        Nothing is written when the log is off (Settings.log_questions) or the index folder is
        read-only here; a failed write is one line on stderr, never a failed answer.
        """
        logbook.log_question(self, asked)

    def asked_questions(self, since: str = "", limit: int | None = None) -> list[AskedQuestion]:
        """The question log from `since` (an ISO date such as 2026-12-01) on, oldest first."""
        return self.engine_store().asked_questions(since, limit)

    def question_statistics(self, since: str = "", top: int = 10) -> LogStatistics:
        """Questions per day, channels, latencies, the `top` slowest and citation counts from `since` on."""
        return self.engine_store().question_statistics(since, top)

    def delete_questions(self, answer_ids: Sequence[str] = (), who: str | None = None) -> int:
        """Delete logged questions by their answer's id, or all a person asked; return how many went."""
        return self.engine_store().delete_questions(answer_ids, who)

    def question_embedder(self) -> Embedder:
        """The embedder of one question: the search and the answer step share the question's
        vector, and the sentences come with the vectors stored at ingest."""
        return ReusingEmbedder(self.embedder, lambda texts, size: self.store.sentence_vectors(texts, size))

    def is_empty(self) -> bool:
        """Whether the index holds no document (or does not exist yet)."""
        return self._store is None or self.store.counts(self._scope())[0] == 0

    def term_statistics(self) -> TermStatistics:
        """How many chunks the index holds, and how many of them hold each full-text term."""
        scope = self._scope()
        return TermStatistics(
            lambda: self.store.counts(scope)[1],
            lambda terms: self.store.term_document_counts(terms, scope),
        )

    def document(self, document_id: str) -> Document:
        """The full stored document, by id or source."""
        return self.store.document(document_id, self._scope())

    def page_image(
        self,
        document_id: str,
        page: int,
        highlight: tuple[int, int] | None = None,
        width: int | None = None,
    ) -> bytes:
        """PNG of one page of a stored PDF or picture, `width` pixels wide (1,000 by default, scaled
        down for huge pages), with the document text's characters [start, end) highlighted."""
        paged = self._paged(document_id, page)
        boxes = self.highlight_boxes(document_id, page, highlight) if highlight is not None else []
        return images.page_image(paged, page, boxes, width)

    def highlight_boxes(
        self, document_id: str, page: int, highlight: tuple[int, int]
    ) -> list[tuple[float, float, float, float]]:
        """Where the document text's characters [start, end) are on one page of its PDF or picture:
        (left, top, right, bottom) boxes, one per line, as fractions of the page from its top left;
        [] when none of them is on that page."""
        paged = self._paged(document_id, page)
        images.check_highlight(paged, highlight)
        return images.highlight_boxes(self.engine_store().page_runs(paged, page), highlight)

    def quote_thumbnail(self, document_id: str, highlight: tuple[int, int], width: int = 320) -> bytes:
        """PNG of the region of the page where the characters [start, end) begin, highlighted,
        `width` pixels wide: a glimpse of the quote on its page."""
        document = self.document(document_id)
        page = document.page_at(highlight[0]) or 1
        boxes = self.highlight_boxes(document_id, page, highlight)
        images.check_quote_boxes(boxes, document.source, highlight)
        return images.thumbnail(self.page_image(document_id, page, highlight), boxes, width)

    def _paged(self, document_id: str, page: int) -> PagedFile:
        """The stored file behind a document with pages, checked to have that page."""
        if self._reader is not None:
            self.document(document_id)  # a reader's view: a document they may not read is not there
        return images.checked_page(self.engine_store().paged_file(document_id), page)

    def stored_vectors(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, vectors) batches of every stored chunk vector, in chunk id order."""
        yield from self.store.iter_vectors(self.dimension)

    def add_feedback(self, feedback: Feedback, passage: str = "") -> Feedback:
        """Store feedback on an answer; passage: pasted words of the right source, found verbatim
        in a stored document (FeedbackError when they are in none). Returns it as stored.

        Settings.feedback_days 0 turns feedback off; n keeps it n days (older feedback goes).
        """
        return logbook.add_feedback(self, feedback, passage)

    def delete_feedback(self, ids: Sequence[str] = (), who: str | None = None) -> int:
        """Delete feedback by id, or all a person gave; return how many went."""
        return self.engine_store().delete_feedback(ids, who)

    def feedback(self, since: str = "", limit: int | None = None) -> list[Feedback]:
        """Feedback given at or after `since` (an ISO date such as 2026-12-01), oldest first."""
        return self.engine_store().feedback(since, limit)

    def documents(self) -> list[DocumentInfo]:
        """Every stored document with its size and chunk count."""
        return self.store.documents(self._scope())

    def set_readers(self, source: str, groups: frozenset[str] | None, actor: Actor) -> str:
        """Narrow who may read one document to these groups (None lifts it); return its stored source."""
        stored = self.resolve_source(source)  # a view finds only what its reader may read
        with self._writing():
            self.engine_store().set_grant(stored, groups, actor.name)
        return stored

    def readers_of(self, source: str) -> frozenset[str] | None:
        """The groups a document's grant narrows it to, or None."""
        return self.engine_store().grant_of(self.resolve_source(source))

    def stats(self) -> dict[str, Any]:
        """Counts, model, chunker settings and sizes on disk (a reader's view: counts of what they may read)."""
        return upkeep.stats(self, self._scope(), self._dimension, self._vector_search)

    def optimize(
        self,
        progress: BuildProgress | None = None,
        sentence_progress: BuildProgress | None = None,
        postgres_vectors: str | None = None,
    ) -> dict[str, Any]:
        """Rebuild the vector index from SQLite (retrain, re-measure recall), compact full text, and
        embed the sentences of documents ingested before sentence vectors were stored.

        The result describes the vector index, plus `sentences_embedded` and
        `documents_given_sentence_vectors` (0 when every document had them), and
        `documents_given_page_positions` with `documents_without_page_positions` (PDFs and
        pictures ingested before page positions were stored: read again from their original
        files, when those are unchanged and give the same text; the others stay without).
        `postgres_vectors` (`hnsw` or `faiss`, PostgreSQL only) builds or drops the database's HNSW
        index first (storage/database/hnsw.py).
        """
        return upkeep.optimize_index(
            self, progress, lambda: self._backfill(sentence_progress), self._vector_search, postgres_vectors
        )

    def _backfill(self, progress: BuildProgress | None) -> dict[str, int]:
        """Sentence vectors, then page positions, for documents stored before either was kept."""
        from rag.ingest import assembly  # questions never load the ingest machinery

        return assembly.backfill(self, progress)

    def check(self, repair: bool = False) -> IndexCheck:
        """Check every part of the index; repair rebuilds what is derived (full text, vectors)."""
        return upkeep.check(self, repair, self._forget_vectors)

    def _forget_vectors(self) -> None:
        self._vectors = None  # repaired: the next use builds the vector index again

    def close(self) -> None:
        """Release this thread's database connection."""
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
