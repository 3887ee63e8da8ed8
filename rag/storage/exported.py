"""One stored document (and one document grant) as every engine can read it out and write it in:
what `rag copy` moves.

Everything is carried as stored, nothing is computed again: the document's id and times, each
chunk's offsets, text, analysed terms and vector, the sentence vectors by their text hash, the
structure spans, and the page positions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from rag.language.analysis import index_text
from rag.types import Location, StructureSpan

# The manifest entries an index is made with; the rest (format version, generation) are the engine's own.
COPIED_MANIFEST = ("embedding_model", "dimension", "chunk_size", "chunk_overlap")


@dataclass(frozen=True)
class ExportedChunk:
    """A chunk as stored: its place in the document's text, what it is found by, its vector."""

    start: int
    end: int
    text: str
    search_text: str | None  # None: found by its own text
    terms: str  # the search text analysed for the document's language
    vector: np.ndarray

    @classmethod
    def of(cls, start: int, text: str, language: str, vector: np.ndarray) -> ExportedChunk:
        """A chunk found by its own text, analysed for the language (eval/engines_scale.py makes them)."""
        return cls(start, start + len(text), text, None, index_text(text, language), vector)


@dataclass(frozen=True)
class ExportedDocument:
    """A document with everything stored for it, in one engine-neutral record."""

    id: str
    source: str
    title: str
    text: str
    metadata: dict[str, object]
    page_starts: tuple[int, ...]
    content_hash: str
    size_bytes: int
    added_at: str  # 'YYYY-MM-DD HH:MM:SS', UTC
    language: str
    script: str
    chunks: tuple[ExportedChunk, ...]
    locations: tuple[Location, ...] = ()
    sentence_vectors: tuple[tuple[int, bytes], ...] = ()  # (text hash, float16 bytes)
    structure: tuple[StructureSpan, ...] = ()
    page_boxes: tuple[tuple[int, str, bytes], ...] = ()  # (page, source, encoded runs)

    def document_row(self) -> tuple[object, ...]:
        """Its `documents` row as both engines store it: id, source, title, text, metadata and
        page starts as JSON, content hash, size, when added, language, script."""
        return (
            self.id,
            self.source,
            self.title,
            self.text,
            json.dumps(self.metadata),
            json.dumps(list(self.page_starts)),
            self.content_hash,
            self.size_bytes,
            self.added_at,
            self.language,
            self.script,
        )


@dataclass(frozen=True)
class ExportedGrant:
    """A document grant as stored: the groups that may read a source, who set it and when."""

    source: str
    read: frozenset[str]
    set_by: str
    set_at: str  # 'YYYY-MM-DD HH:MM:SS', UTC
