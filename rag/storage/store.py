"""SQLite storage: the source of truth for documents, chunks, vectors and the manifest.

`Store` joins the parts of rag/storage/sqlite/, one concern each, over one connection per thread;
the records it takes and gives back are those of rag/storage/records.py, shared with PostgreSQL.
"""

from __future__ import annotations

from rag.storage.records import ChunkRecord, DocumentInfo, NewDocument, PagedFile, refuse_other_settings
from rag.storage.schema import FORMAT_VERSION
from rag.storage.sqlite.logs import Logs
from rag.storage.sqlite.permissions import Permissions
from rag.storage.sqlite.reading import DocumentReads
from rag.storage.sqlite.searching import SearchReads
from rag.storage.sqlite.writing import DocumentWrites
from rag.storage.sqlite_errors import DATABASE_NAME

__all__ = [
    "DATABASE_NAME",
    "FORMAT_VERSION",
    "ChunkRecord",
    "DocumentInfo",
    "NewDocument",
    "PagedFile",
    "Store",
    "refuse_other_settings",
]


class Store(DocumentWrites, DocumentReads, SearchReads, Permissions, Logs):
    """One SQLite database per index folder; WAL so readers see whole committed documents.

    Opening never writes: only `Store.create` (used by ingest) makes a database, and a
    read-only folder is opened read-only, so a shared index can still be searched.
    """
