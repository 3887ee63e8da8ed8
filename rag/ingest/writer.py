"""One writing session of an index, for callers that add, rename and remove in one pass (sync)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from rag.errors import RagError
from rag.ingest.pipeline import Ingestor
from rag.ingest.preparing import Blob
from rag.storage.scope import ScopedStore
from rag.storage.store import Store
from rag.types import IngestReport, ProgressCallback

SYNC_ACTOR = "sync"  # who set a grant, as the grants table records it


class IndexWriter:
    """Adds, renames and removes documents while its KnowledgeBase holds the write lock."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor

    def add_blobs(self, blobs: Sequence[Blob], progress: ProgressCallback | None = None) -> IngestReport:
        """Ingest files given as bytes; content the index already holds under a source is skipped."""
        return self.ingestor.ingest_blobs(blobs, progress)

    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]:
        """The content hash of each of these sources that is stored."""
        return self.ingestor.store.content_hashes(sources)

    def sources_under(self, prefix: str) -> list[str]:
        """The stored sources that start with prefix."""
        return [source for source in self.ingestor.store.sources() if source.startswith(prefix)]

    def rename(self, source: str, new_source: str) -> None:
        """Store a document under a new source, without embedding it again.

        A title taken from the old file name follows the new one.
        """
        store = self.ingestor.store
        if not isinstance(store, Store):
            raise RagError("renaming without embedding again needs an index folder (not yet PostgreSQL)")
        old_name, new_name = PurePosixPath(source), PurePosixPath(new_source)
        title = store.document(source).title
        new_title = {old_name.name: new_name.name, old_name.stem: new_name.stem}.get(title)
        store.rename_document(source, new_source, new_title)

    def readers(self) -> dict[str, frozenset[str]]:
        """The groups each narrowed source (stored or not yet) may be read by."""
        return self._granting_store().grants()

    def set_readers(self, sources: Sequence[str], groups: frozenset[str]) -> None:
        """Narrow who may read these sources, before or after they are stored."""
        self._granting_store().set_grants(sources, groups, SYNC_ACTOR)

    def _granting_store(self) -> ScopedStore:
        store = self.ingestor.store
        if not isinstance(store, ScopedStore):
            raise RagError("this index's engine keeps no per-source readers")
        return store

    def remove(self, source: str) -> int:
        """Remove a document by its exact source; 0 when it is not stored (already gone)."""
        if not self.ingestor.store.content_hashes([source]):
            return 0
        return self.ingestor.store.remove_document(source)
