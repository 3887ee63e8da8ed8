"""An index as the facade opens and writes it, either engine: the store a folder or a postgresql://
URL already holds (none until the first ingest), settings resolved against its manifest, a
database's FAISS follower, one write at a time (a folder's lock, the manifest checked, the vectors
brought up to date after it), and which stored document a user's name for one refers to.

`writing` and `follower` take the index as the `Written` protocol, which `KnowledgeBase` is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.errors import IndexDamagedError, IndexNotFoundError, NotFoundError
from rag.settings import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_MODEL, Settings
from rag.storage import bulk_load
from rag.storage.database import vector_cache
from rag.storage.database.follower import DatabaseVectors, has_journal
from rag.storage.engine import DocumentStore
from rag.storage.lock import write_lock
from rag.storage.store import Store
from rag.storage.vectors.index import VectorIndex
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


def open_existing(folder: Path, url: str | None) -> DocumentStore | None:
    """The store an index folder or a database URL holds; None when it holds no index yet."""
    if url is None:
        return Store(folder) if Store.exists_in(folder) else None
    from rag.storage.postgres import PostgresStore  # psycopg: only for a database URL

    try:
        return PostgresStore(url)
    except IndexNotFoundError:
        return None


def resolved(
    settings: Settings, embedder_name: str | None, recorded: dict[str, str], store: DocumentStore | None
) -> Settings:
    """Settings with the model and chunker filled in: given ones first, then the embedder's name,
    then what the manifest records, then the defaults; an index's store refuses other ones."""
    model = settings.embedding_model or embedder_name
    resolved = settings.replace(
        embedding_model=model or recorded.get("embedding_model") or DEFAULT_MODEL,
        chunk_size=settings.chunk_size or int(recorded.get("chunk_size", DEFAULT_CHUNK_SIZE)),
        chunk_overlap=settings.chunk_overlap
        if settings.chunk_overlap is not None
        else int(recorded.get("chunk_overlap", DEFAULT_CHUNK_OVERLAP)),
    )
    if recorded.get("format_version"):
        assert store is not None  # a manifest was read from it
        store.check_or_write_manifest(manifest_of(resolved))
    return resolved


def manifest_of(settings: Settings) -> dict[str, str]:
    """What the manifest records of the settings an index was built with."""
    return {
        "embedding_model": str(settings.embedding_model),
        "chunk_size": str(settings.chunk_size),
        "chunk_overlap": str(settings.chunk_overlap),
    }


def recorded_dimension(recorded: dict[str, str], folder: str) -> int | None:
    """The vector length the manifest records (None before the first vector); nonsense is damage."""
    if "dimension" not in recorded:
        return None
    try:
        dimension = int(recorded["dimension"])
    except ValueError:
        dimension = 0
    if dimension < 1:
        raise IndexDamagedError(
            f"the manifest of {folder} records dimension {recorded['dimension']!r};"
            f" run `rag check --index {folder}`"
        )
    return dimension


def stored_source(sources: Sequence[str], source: str, location: str) -> str:
    """The one of `sources` a user's name for a document refers to: itself, its absolute path, or
    the one source it ends; NotFoundError names what to give instead."""
    if source in sources:
        return source
    for absolute in (os.path.abspath(source), str(Path(source).resolve())):
        if absolute in sources:
            return absolute
    matches = [name for name in sources if name.endswith("/" + source.lstrip("/"))]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(f"{source!r} matches {len(matches)} documents; give the full source path")
    raise NotFoundError(f"no document {source!r} in {location}; see `rag stats --documents`")


class Embeds(Protocol):
    """An embedding model, as the vector index uses it (rag.embedding's `Embedder`)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class Written(Protocol):
    """What a write needs of an opened index (a `KnowledgeBase`)."""

    @property
    def url(self) -> str | None: ...

    @property
    def folder(self) -> Path: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def dimension(self) -> int: ...

    @property
    def embedder(self) -> Embeds: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def vectors(self) -> VectorIndex: ...

    def create(self) -> None: ...

    def sqlite_store(self) -> Store: ...

    def engine_store(self) -> Store | PostgresStore: ...


def follower(store: PostgresStore, index: Written) -> DatabaseVectors | None:
    """A PostgreSQL index's FAISS follower in this process, when its settings choose FAISS and
    the database keeps the change journal it follows; None: pgvector searches."""
    settings = index.settings
    if settings.postgres_vectors == "faiss" and has_journal(store):
        limits = vector_cache.Limits.of(settings.vector_cache_days, settings.vector_cache_gb)
        return DatabaseVectors(
            store, index.dimension, settings.approximate_above, index.embedder.embed, limits
        )
    return None


@contextmanager
def writing(index: Written, index_progress: BuildProgress | None = None) -> Iterator[None]:
    """Hold an index folder's write lock (a second writer fails at once instead of waiting);
    PostgreSQL takes many writers, each document one transaction. Into a database that holds no
    chunk yet, the rows are written first and the HNSW index built after them (bulk_load)."""
    index.create()
    with nullcontext() if index.url is not None else write_lock(index.folder):
        manifest = manifest_of(index.settings) | {"dimension": str(index.dimension)}
        index.store.check_or_write_manifest(manifest)
        if index.url is None:
            yield
            index.vectors.after_write(index.sqlite_store(), index_progress)
            return
        store = index.engine_store()
        assert not isinstance(store, Store)
        store.upgrade()  # a writer brings an older format up to date; a reader never does
        loading = bulk_load.start(store, "rag ingest")
        try:
            yield
        except BaseException:
            if loading:  # the index stays left for the end: the next load or `rag check --repair`
                bulk_load.let_go(store)
            raise
        if loading:
            bulk_load.finish(store, index_progress)
