"""What a storage engine offers the rest of Verbatim: documents, chunks, vectors, term search.

Two engines implement it: an index folder (SQLite, the truth, with FAISS derived from it:
`store.Store` and `vectors.index.VectorIndex`) and a PostgreSQL database with pgvector
(`postgres.PostgresStore`). Ingest, retrieval and answers see only these protocols.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

import numpy as np

from rag.storage.exported import ExportedDocument
from rag.storage.records import ChunkRecord, DocumentInfo, NewDocument
from rag.storage.scope import Scope
from rag.storage.store import Store
from rag.storage.vectors.ann import EXACT
from rag.storage.vectors.index import VectorIndex
from rag.types import Document

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: object) -> bool:
    """Whether an --index value names a PostgreSQL database rather than a folder."""
    return isinstance(location, str) and location.startswith(DATABASE_SCHEMES)


# Connection parameters a URL's query may carry that are secrets: never shown.
SECRET_URL_PARAMETERS = frozenset({"password", "sslpassword"})


def public_location(url: str) -> str:
    """A database URL without its password: what messages and stats may show. Its other query
    parameters stay, as written: the search_path in `options` names the collection's schema, so
    two collections in one database read apart, and a command a message suggests reaches the same
    index."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is not a number: the connection attempt says so
        port = ""
    kept = [
        parameter
        for parameter in parts.query.split("&")
        if parameter and unquote(parameter.partition("=")[0]).strip().lower() not in SECRET_URL_PARAMETERS
    ]
    query = f"?{'&'.join(kept)}" if kept else ""
    return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}{query}"


class DocumentStore(Protocol):
    """The truth of one index: documents with their full text, chunks, vectors, analysed terms."""

    def manifest(self) -> dict[str, str]:
        """All manifest entries (format version, model, dimension, chunker settings)."""
        ...

    def check_or_write_manifest(self, expected: dict[str, str]) -> None:
        """Record the manifest of a new index, or fail if an existing one differs."""
        ...

    def generation(self) -> int:
        """A counter that grows with every committed change."""
        ...

    def put_document(self, document: NewDocument) -> str:
        """Insert or replace a document and its chunks in one transaction; return its id."""
        ...

    def remove_document(self, source: str) -> int:
        """Delete a document and its chunks; return how many chunks went."""
        ...

    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]:
        """Map of each of these sources that is stored to the hash of its content."""
        ...

    def sources(self) -> list[str]:
        """All document sources, sorted."""
        ...

    def documents(self, scope: Scope | None = None) -> list[DocumentInfo]:
        """All documents with sizes and chunk counts, sorted by source."""
        ...

    def document(self, document_id: str, scope: Scope | None = None) -> Document:
        """The full document with the given id (or source)."""
        ...

    def chunk_records(self, chunk_ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their document's source, title and pages."""
        ...

    def chunk_vectors(self, chunk_ids: Sequence[int], dimension: int) -> dict[int, np.ndarray]:
        """The stored vectors of those chunks that exist."""
        ...

    def iter_vectors(self, dimension: int, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, vectors) batches of every stored chunk vector, in chunk id order."""
        ...

    def sentence_vectors(self, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
        """Vectors stored at ingest for those of the sentence texts that have one."""
        ...

    def documents_without_sentence_vectors(self) -> list[str]:
        """Ids of the documents with text and no stored sentence vector."""
        ...

    def add_sentence_vectors(self, document_id: str, vectors: Mapping[str, np.ndarray]) -> bool:
        """Store sentence vectors for a document; False when it is gone."""
        ...

    def lexical_search(
        self, terms: Sequence[str], limit: int, scope: Scope | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) of the chunks holding any of the terms."""
        ...

    def has_chunks(self) -> bool:
        """Whether any chunk is stored."""
        ...

    def export_documents(self, dimension: int) -> Iterator[ExportedDocument]:
        """Every document with all that is stored for it, in the order they were added (`rag copy`)."""
        ...

    def import_document(self, document: ExportedDocument) -> None:
        """Write a document read out of another index as it was stored, in one transaction."""
        ...

    def language_counts(self) -> dict[str, int]:
        """How many documents each detected language has, most first."""
        ...

    def languages(self, scope: Scope | None = None) -> list[str]:
        """The distinct languages of the stored documents, in code order."""
        ...

    def term_document_counts(self, terms: Sequence[str], scope: Scope | None = None) -> dict[str, int]:
        """How many chunks hold each of the given terms (absent terms are left out)."""
        ...

    def counts(self, scope: Scope | None = None) -> tuple[int, int]:
        """Number of documents and of chunks."""
        ...

    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API."""
        ...

    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document: what a reader's scope is found from."""
        ...

    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids and languages."""
        ...

    def close(self) -> None:
        """Release this thread's connection."""
        ...


class VectorSearch(Protocol):
    """Nearest chunk vectors by inner product (cosine: every stored vector is a unit vector)."""

    @property
    def kind(self) -> str:
        """'exact' when scores and candidates are exact; otherwise the approximate index's kind."""
        ...

    @property
    def exact_scores(self) -> bool:
        """Whether the scores are exact cosines (an approximate index may score on coarse codes)."""
        ...

    def search(
        self, query_vectors: np.ndarray, k: int, scope: Scope | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks of each query within the scope; -1 ids pad a short list."""
        ...


@dataclass(frozen=True)
class FolderVectors:
    """An index folder's FAISS index, brought up to date with its SQLite store at each search."""

    index: VectorIndex
    store: Store

    @property
    def kind(self) -> str:
        """The FAISS index's kind (exact, or IVF above the size threshold)."""
        return self.index.kind

    @property
    def exact_scores(self) -> bool:
        """Only the exact FAISS index scores on the vectors themselves; IVF scores on 8-bit codes."""
        return self.index.kind == EXACT

    def search(
        self, query_vectors: np.ndarray, k: int, scope: Scope | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks of each query, within the scope."""
        return self.index.search(self.store, query_vectors, k, scope)
