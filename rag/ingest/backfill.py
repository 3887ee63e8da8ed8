"""What `rag optimize` adds to documents stored before it was kept: their sentences' vectors, and
the page positions of PDFs and pictures, read again from their unchanged original files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.embedding import Embedder
from rag.errors import RagError
from rag.ingest.loaders import load_bytes
from rag.ingest.pipeline import reuse_or_embed
from rag.ingest.preparing import FilePreparer
from rag.language.sentences import quotable_texts
from rag.storage.engine import DocumentStore
from rag.storage.store import Store
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore


def fill_sentence_vectors(
    store: DocumentStore, embedder: Embedder, progress: BuildProgress | None
) -> dict[str, int]:
    """Store vectors for the sentences of documents that have none (one document at a time,
    each in its own transaction: an interrupted run keeps what it finished)."""
    missing = store.documents_without_sentence_vectors()
    embedded = documents = 0
    for done, document_id in enumerate(missing, start=1):
        vectors, new = reuse_or_embed(store, embedder, quotable_texts(store.document(document_id)))
        if vectors and store.add_sentence_vectors(document_id, vectors):
            embedded, documents = embedded + new, documents + 1
        if progress is not None:
            progress(done, len(missing), "sentences")
    return {"sentences_embedded": embedded, "documents_given_sentence_vectors": documents}


def fill_page_boxes(store: Store | PostgresStore, preparer: FilePreparer) -> dict[str, int]:
    """Read page positions for PDFs and pictures ingested before they were stored, from their
    unchanged original files (nothing is embedded: the text must come out the same)."""
    from rag.pages.render import read_original  # pdfium and Pillow: only when a page is read

    missing = store.documents_without_page_boxes()
    given = 0
    for source in missing:
        paged = store.paged_file(source)
        try:
            data = read_original(source, paged.content_hash)
            loaded = load_bytes(
                Path(source).name, data, preparer.limits.max_bytes, preparer.ocr, preparer.limits.parse
            )
        except RagError:
            continue
        if loaded.geometry and store.add_page_boxes(source, loaded.text, loaded.geometry):
            given += 1
    return {
        "documents_given_page_positions": given,
        "documents_without_page_positions": len(missing) - given,
    }
