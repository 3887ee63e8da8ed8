"""`rag copy`: an index from one engine to another (a folder <-> PostgreSQL), nothing embedded again.

Each document is read out whole (rag/storage/exported.py) and written in one transaction, so an
interrupted copy leaves whole documents; `resume` skips those already there with the same content.
A folder destination gets its FAISS index built from the copied vectors at the end; a database
destination that holds no chunk yet (or an interrupted copy's) gets its HNSW index built after the
rows too (storage/bulk_load.py), which is several times faster than inserting each vector into it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexMismatchError, RagError
from rag.settings import Settings
from rag.storage import bulk_load
from rag.storage.engine import is_database_url, public_location
from rag.storage.exported import COPIED_MANIFEST
from rag.storage.lock import write_lock
from rag.storage.store import Store
from rag.storage.vectors.index import VectorIndex
from rag.types import BuildProgress

if TYPE_CHECKING:
    from typing import TypeAlias

    from rag.storage.postgres import PostgresStore

    Engine: TypeAlias = Store | PostgresStore


@dataclass
class CopyReport:
    """What a copy did: documents and chunks written, documents skipped, what stayed behind."""

    source: str
    destination: str
    documents: int = 0
    chunks: int = 0
    skipped: int = 0  # already in the destination with the same content (resume)
    left_behind: dict[str, int] = field(default_factory=dict)  # what the destination cannot keep

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


def location_of(location: str | Path) -> str:
    """How an index location is shown: a folder path, or a database URL without its password."""
    return (
        public_location(location)
        if isinstance(location, str) and is_database_url(location)
        else str(location)
    )


def open_engine(location: str | Path) -> Engine:
    """The store of an existing index: a folder, or a postgresql:// URL (IndexNotFoundError if none)."""
    if isinstance(location, str) and is_database_url(location):
        from rag.storage.postgres import PostgresStore  # psycopg: only for a database URL

        return PostgresStore(location)
    return Store(Path(location))


def _create_engine(location: str | Path, dimension: int) -> Engine:
    if isinstance(location, str) and is_database_url(location):
        from rag.storage.postgres import PostgresStore

        # Kept for the vector search its readers are set to (RAG_POSTGRES_VECTORS), as an ingest would.
        return PostgresStore.create(location, dimension, Settings.from_env().postgres_vectors)
    return Store.create(Path(location))


def copy_index(
    source: str | Path,
    destination: str | Path,
    resume: bool = False,
    progress: BuildProgress | None = None,
    index_progress: BuildProgress | None = None,
) -> CopyReport:
    """Copy every document of the source index into the destination, which must be empty unless
    resuming; the destination is created when missing, with the source's model and chunker.
    progress hears of documents copied, index_progress of the vector index built after them."""
    report = CopyReport(location_of(source), location_of(destination))
    if _same_place(source, destination):
        raise RagError(f"{report.source} is both the source and the destination: copy into another index")
    origin = open_engine(source)
    manifest = origin.manifest()
    missing = [key for key in COPIED_MANIFEST if key not in manifest]
    if missing:
        raise IndexMismatchError(
            f"the manifest of {report.source} lacks {', '.join(missing)}: run `rag check --index {report.source}`"
        )
    report.left_behind = {name: count for name, count in _left_behind(origin, destination).items() if count}
    dimension = int(manifest["dimension"])
    target = _create_engine(destination, dimension)
    try:
        with _locked(destination):
            held = target.counts()[0]
            if held and not resume:
                raise RagError(
                    f"{report.destination} already holds {held} documents: copy into an empty index,"
                    " or add --resume to keep them and copy the rest"
                )
            target.check_or_write_manifest({key: manifest[key] for key in COPIED_MANIFEST})
            loading = not isinstance(target, Store) and bulk_load.start(
                target, f"rag copy from {report.source}"
            )
            # Before the documents: a reader of the destination never sees one before its grant.
            copied_grants = origin.export_grants()  # who set each and when, as the source keeps them
            if copied_grants:
                target.import_grants(copied_grants)
            _copy_documents(origin, target, report, progress)
            if isinstance(target, Store):
                # Built now, from the copied vectors, so the first question does not wait for it.
                VectorIndex(Path(destination), dimension, _approximate_above()).rebuild(
                    target, index_progress
                )
            elif loading:
                bulk_load.finish(target, index_progress)
    finally:
        target.close()
        origin.close()
    return report


def _copy_documents(
    origin: Engine, target: Engine, report: CopyReport, progress: BuildProgress | None
) -> None:
    total = origin.counts()[0]
    for done, document in enumerate(origin.export_documents(int(origin.manifest()["dimension"])), start=1):
        if target.content_hashes([document.source]).get(document.source) == document.content_hash:
            report.skipped += 1
        else:
            target.import_document(document)
            report.documents += 1
            report.chunks += len(document.chunks)
        if progress is not None:
            progress(done, max(total, done), "documents")


def _left_behind(origin: Engine, destination: str | Path) -> dict[str, int]:
    """What a copy does not carry (feedback, the audit trail), when a folder is copied into a database."""
    if not isinstance(origin, Store) or not (isinstance(destination, str) and is_database_url(destination)):
        return {}
    return origin.uncopied_counts()


def _locked(destination: str | Path) -> AbstractContextManager[object]:
    """A folder's writer lock (a database takes many writers, each document one transaction)."""
    if isinstance(destination, str) and is_database_url(destination):
        return nullcontext()
    return write_lock(Path(destination))


def _same_place(source: str | Path, destination: str | Path) -> bool:
    if isinstance(source, str) and is_database_url(source):
        return source == destination
    if isinstance(destination, str) and is_database_url(destination):
        return False
    return Path(source).resolve() == Path(destination).resolve()


def _approximate_above() -> int:
    return Settings.from_env().approximate_above
