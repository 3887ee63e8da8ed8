"""Turning one file or text into a chunked document, ready to embed: no store, no model.

What a FilePreparer does depends only on the file and the chunk settings it carries, so it
runs the same in this process and on a Ray worker (rag/ingest/ray_engine.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import DocumentError
from rag.ingest.chunking import row_search_text, split_rows, split_text
from rag.ingest.hashing import content_hash
from rag.ingest.headers import contextual_search_texts
from rag.ingest.loaders import DEFAULT_MAX_FILE_BYTES, check_size, load_bytes
from rag.ingest.sandbox import ParseLimits
from rag.language.detection import detect_language
from rag.language.sentences import quotable_texts
from rag.settings import OcrSettings
from rag.storage.records import NewDocument
from rag.types import Document, FileResult, LoadedFile, Location, PageGeometry, TextItem, TextSpan


@dataclass(frozen=True)
class FileLimits:
    """What one file may be: its size, its chunk count, and the cost of extracting its text."""

    max_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_chunks: int = 10_000
    parse: ParseLimits | None = None  # None: parse in this process, unbounded


@dataclass(frozen=True)
class Blob:
    """A file's bytes, the source it is stored under, and the name its type is read from."""

    source: str
    name: str
    data: bytes


@dataclass
class Prepared:
    """A document chunked and waiting for its vectors, with what the report will say of it."""

    document: NewDocument
    status: str  # "added" or "updated"
    warnings: tuple[str, ...]
    sentences: tuple[str, ...] = ()  # the distinct sentences answers may quote, embedded with the chunks

    def search_texts(self) -> list[str]:
        """What each chunk is embedded as: its search text, else its own text."""
        return list(self.document.search_texts) or [span.text for span in self.document.spans]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the document (its vectors travel apart, as bytes)."""
        document = self.document
        return {
            "status": self.status,
            "warnings": list(self.warnings),
            "source": document.source,
            "title": document.title,
            "text": document.text,
            "content_hash": document.content_hash,
            "size_bytes": document.size_bytes,
            "spans": [[span.start, span.end] for span in document.spans],
            "page_starts": list(document.page_starts),
            "metadata": document.metadata or {},
            "locations": [list(location) for location in document.locations],
            "search_texts": list(document.search_texts),
            "sentences": list(self.sentences),
            "language": document.language,
            "script": document.script,
            "geometry": [dataclasses.asdict(page) for page in document.geometry],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prepared:
        """The inverse of to_json."""
        text = data["text"]
        document = NewDocument(
            data["source"],
            data["title"],
            text,
            data["content_hash"],
            data["size_bytes"],
            [TextSpan(start, end, text[start:end]) for start, end in data["spans"]],
            np.zeros((0, 0)),
            tuple(data["page_starts"]),
            data["metadata"],
            tuple(Location(start, label) for start, label in data["locations"]),
            data["search_texts"],
            language=data["language"],
            script=data["script"],
            geometry=tuple(PageGeometry.from_dict(page) for page in data.get("geometry", ())),
        )
        return cls(document, data["status"], tuple(data["warnings"]), tuple(data["sentences"]))


def outcome_to_json(outcome: Prepared | FileResult) -> str:
    """A prepared document, or the result of a file that needs no embedding, as JSON text.

    How preparations travel between processes (Ray workers and this one): JSON, never pickle.
    """
    if isinstance(outcome, FileResult):
        return json.dumps({"result": outcome.to_dict()})
    return json.dumps({"document": outcome.to_json()})


def outcome_from_json(text: str) -> Prepared | FileResult:
    """The inverse of outcome_to_json."""
    data = json.loads(text)
    if "result" in data:
        result = data["result"]
        return FileResult(**{**result, "warnings": tuple(result.get("warnings", ()))})
    return Prepared.from_json(data["document"])


@dataclass(frozen=True)
class FilePreparer:
    """Reads, checks, converts and chunks files and texts with one index's settings."""

    chunk_size: int
    chunk_overlap: int
    limits: FileLimits = FileLimits()
    ocr: OcrSettings = field(default_factory=OcrSettings)

    def prepare_file(
        self, path: Path, known_hash: str | None, before_parse: Callable[[], None] | None = None
    ) -> Prepared | FileResult:
        """The chunked document of a file, or its result when it is unchanged or fails."""
        source = str(path)
        try:
            check_size(path.name, path.stat().st_size, self.limits.max_bytes)
            data = path.read_bytes()
        except (DocumentError, OSError) as error:
            return FileResult(source, "failed", reason=_reason(error))
        return self.prepare_bytes(Blob(source, path.name, data), known_hash, before_parse)

    def prepare_bytes(
        self, blob: Blob, known_hash: str | None, before_parse: Callable[[], None] | None = None
    ) -> Prepared | FileResult:
        """The chunked document of a file's bytes fetched from elsewhere (a bucket, a web page)."""
        try:
            check_size(blob.name, len(blob.data), self.limits.max_bytes)
            fingerprint = content_hash(blob.data)
            if known_hash == fingerprint:
                return FileResult(blob.source, "unchanged")
            if before_parse is not None:
                before_parse()  # a big file to parse names itself first
            loaded = load_bytes(blob.name, blob.data, self.limits.max_bytes, self.ocr, self.limits.parse)
            document = self.new_document(blob.source, loaded, fingerprint, len(blob.data))
        except (DocumentError, OSError) as error:
            return FileResult(blob.source, "failed", reason=_reason(error))
        return self._prepared(document, known_hash, loaded.warnings)

    def prepare_text(self, item: TextItem, known_hash: str | None) -> Prepared | FileResult:
        """The chunked document of a text, or its result when it is unchanged or empty."""
        data = item.text.encode("utf-8")
        fingerprint = content_hash(data, item.title)
        if known_hash == fingerprint:
            return FileResult(item.source, "unchanged")
        if not item.text.strip():
            return FileResult(item.source, "failed", reason="the text is empty")
        try:
            spans = self.spans(item.source, item.text)
        except DocumentError as error:
            return FileResult(item.source, "failed", reason=str(error))
        detected = detect_language(item.text)
        title = item.title or item.source
        document = NewDocument(
            item.source,
            title,
            item.text,
            fingerprint,
            len(data),
            spans,
            np.zeros((0, 0)),
            (),
            item.metadata or {},
            language=detected.language,
            script=detected.script,
            search_texts=contextual_search_texts(item.source, title, item.text, spans),
        )
        return self._prepared(document, known_hash, ())

    def _prepared(self, document: NewDocument, known_hash: str | None, warnings: tuple[str, ...]) -> Prepared:
        # The sentences answers may quote are embedded with the chunks: a question then embeds only itself.
        sentences = tuple(dict.fromkeys(quotable_texts(_readable(document))))
        return Prepared(document, "updated" if known_hash is not None else "added", warnings, sentences)

    def spans(self, source: str, text: str) -> list[TextSpan]:
        """Chunk spans of a document text; a DocumentError when there would be too many."""
        limit = self.limits.max_chunks
        # Chunks cover every visible character and hold at most chunk_size each: refuse a text
        # that is certainly over the limit before spending any time splitting it.
        visible = len(text) - sum(text.count(space) for space in " \n\t\r")
        if visible > limit * self.chunk_size:
            raise DocumentError(_too_many_chunks(source, f"more than {limit:,}", limit))
        spans = split_text(text, self.chunk_size, self.chunk_overlap)
        if len(spans) > limit:
            raise DocumentError(_too_many_chunks(source, f"{len(spans):,}", limit))
        return spans

    def new_document(self, source: str, loaded: LoadedFile, fingerprint: str, size: int) -> NewDocument:
        """A loaded file chunked, with what each chunk is embedded and found by."""
        metadata = {"type": loaded.file_type, **loaded.metadata}
        # A Document, to read spans the way answers will: table rows with their column headers.
        document = Document(
            "", source, loaded.title, loaded.text, metadata, loaded.page_starts, loaded.locations
        )
        if document.is_table:
            spans = split_rows(document, self.chunk_size)
            if len(spans) > self.limits.max_chunks:
                raise DocumentError(_too_many_chunks(source, f"{len(spans):,}", self.limits.max_chunks))
            search_texts = [row_search_text(document, span, self.chunk_size) for span in spans]
        else:
            spans = self.spans(source, loaded.text)
            search_texts = contextual_search_texts(source, loaded.title, loaded.text, spans, loaded.locations)
        detected = detect_language(loaded.text)
        return NewDocument(
            source,
            loaded.title,
            loaded.text,
            fingerprint,
            size,
            spans,
            np.zeros((0, 0)),
            loaded.page_starts,
            metadata,
            loaded.locations,
            search_texts,
            language=detected.language,
            script=detected.script,
            geometry=loaded.geometry,
        )


def _readable(document: NewDocument) -> Document:
    """The Document an answer will read: a table's rows with their column headers."""
    return Document(
        "",
        document.source,
        document.title,
        document.text,
        dict(document.metadata or {}),
        tuple(document.page_starts),
        document.locations,
    )


def _too_many_chunks(source: str, count: str, limit: int) -> str:
    name = Path(source).name
    return (
        f"{name} would make {count} chunks, over the limit of {limit:,} per file;"
        " split it, or raise the limit (RAG_MAX_CHUNKS_PER_FILE)"
    )


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"cannot read the file: {error.strerror or error}"
    return str(error)
