"""An index's ingest machinery, assembled from what the facade holds: the `Ingestor` that writes
documents, the `FilePreparer` its settings bound, and the backfill `rag optimize` runs.

The facade imports this only when it writes: questions never load the ingest machinery and its
file parsers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rag.embedding import Embedder
from rag.ingest.backfill import fill_page_boxes, fill_sentence_vectors
from rag.ingest.pipeline import Ingestor
from rag.ingest.preparing import FileLimits, FilePreparer
from rag.ingest.sandbox import ParseLimits
from rag.settings import DEFAULT_CHUNK_SIZE, Settings
from rag.storage.engine import DocumentStore
from rag.storage.store import Store
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


class Assembled(Protocol):
    """What ingest needs of an opened index (a `KnowledgeBase`)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def embedder(self) -> Embedder: ...

    def engine_store(self) -> Store | PostgresStore: ...


def ingestor(index: Assembled) -> Ingestor:
    """The ingestor that writes documents into the index's store with its model."""
    return Ingestor(index.store, index.embedder, preparer(index.settings), index.settings.follow_links)


def preparer(settings: Settings) -> FilePreparer:
    """One file to a chunked document, within the settings' chunker and file limits."""
    return FilePreparer(
        int(settings.chunk_size or DEFAULT_CHUNK_SIZE),
        int(settings.chunk_overlap or 0),
        FileLimits(
            settings.max_file_bytes,
            settings.max_chunks_per_file,
            ParseLimits(settings.parse_seconds, settings.parse_memory_mb * 1024 * 1024),
        ),
        settings.ocr,
    )


def backfill(index: Assembled, progress: BuildProgress | None) -> dict[str, int]:
    """Sentence vectors, then page positions, for documents stored before either was kept."""
    filled = fill_sentence_vectors(index.store, index.embedder, progress)
    return filled | fill_page_boxes(index.engine_store(), preparer(index.settings))
