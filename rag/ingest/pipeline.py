"""Ingest files and texts: skip unchanged content, embed in batches, commit per document."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.embedding import Embedder
from rag.errors import DocumentError
from rag.ingest.chunking import split_rows, split_text
from rag.ingest.hashing import content_hash
from rag.ingest.loaders import DEFAULT_MAX_FILE_BYTES, check_size, is_supported, load_bytes
from rag.ingest.sandbox import ParseLimits
from rag.settings import OcrSettings
from rag.storage.store import NewDocument, Store
from rag.types import (
    Document,
    FileResult,
    IngestProgress,
    IngestReport,
    LoadedFile,
    ProgressCallback,
    TextItem,
    TextSpan,
)

EMBED_BATCH_CHUNKS = 256


@dataclass(frozen=True)
class FileLimits:
    """What one file may be: its size, its chunk count, and the cost of extracting its text."""

    max_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_chunks: int = 10_000
    parse: ParseLimits | None = None  # None: parse in this process, unbounded


@dataclass
class _Pending:
    document: NewDocument
    status: str
    warnings: tuple[str, ...]
    sentences: tuple[str, ...] = ()


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest under the given paths (recursive, hidden entries skipped) and rejects.

    A file is named by the path it was found at, not by where a symbolic link points, so
    that --prune removes it once the link is gone.
    """
    files: list[Path] = []
    rejected: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            _walk(path, files, rejected)
        elif path.is_file():
            _sort_file(path, files, rejected)
        elif path.is_symlink():
            rejected.append(_broken_link(path))
        else:
            rejected.append(FileResult(source_of(path), "failed", reason="no such file or folder"))
    return files, rejected


def source_of(path: Path) -> str:
    """The source name a file is stored under: its absolute path, symbolic links not followed."""
    return os.path.abspath(path)


def _walk(root: Path, files: list[Path], rejected: list[FileResult]) -> None:
    def unreadable(error: OSError) -> None:
        reason = f"cannot read the folder ({error.strerror}); its files were not ingested"
        rejected.append(FileResult(source_of(Path(error.filename or root)), "failed", reason=reason))

    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            child = Path(folder) / name
            if name.startswith("."):
                continue
            if child.is_file():
                _sort_file(child, files, rejected)
            elif child.is_symlink() and not child.exists():
                rejected.append(_broken_link(child))


def _broken_link(path: Path) -> FileResult:
    return FileResult(
        source_of(path), "failed", reason=f"broken symbolic link (its target {os.readlink(path)} is missing)"
    )


def _sort_file(path: Path, files: list[Path], rejected: list[FileResult]) -> None:
    if is_supported(path):
        files.append(Path(source_of(path)))
    else:
        reason = f"unsupported file type {path.suffix or '(no extension)'}"
        rejected.append(FileResult(source_of(path), "skipped", reason=reason))


class Ingestor:
    """Turns files and texts into committed documents of one store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunk_size: int,
        chunk_overlap: int,
        limits: FileLimits,
        ocr: OcrSettings | None = None,
        sentences: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.limits = limits
        self.ocr = ocr or OcrSettings()
        # The sentences an answer quotes, embedded here once instead of at every question.
        self.sentences = sentences

    def ingest_files(
        self, paths: Sequence[Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest files and folders; with prune, drop documents under them whose files are gone."""
        started = time.perf_counter()
        files, results = discover(paths)
        known = self.store.content_hashes([str(path) for path in files])
        batch = _Batch(self, results, progress, started, len(files))
        for path in files:
            batch.add_file(path, known)
        batch.flush()
        if prune:
            results.extend(self._prune(paths, {str(path) for path in files}))
        return IngestReport(tuple(results), batch.chunks_embedded, time.perf_counter() - started)

    def ingest_texts(
        self, items: Iterable[TextItem], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest documents given as text; unchanged texts are skipped."""
        started = time.perf_counter()
        items = list(items)
        results: list[FileResult] = []
        known = self.store.content_hashes([item.source for item in items])
        batch = _Batch(self, results, progress, started, len(items))
        for item in items:
            batch.add_text(item, known)
        batch.flush()
        return IngestReport(tuple(results), batch.chunks_embedded, time.perf_counter() - started)

    def _prune(self, roots: Sequence[Path], present: set[str]) -> list[FileResult]:
        folders = [source_of(root) for root in roots if root.is_dir()]
        removed = []
        for source in self.store.sources():
            under_root = any(source.startswith(folder.rstrip("/") + "/") for folder in folders)
            if under_root and source not in present and not Path(source).exists():
                chunks = self.store.remove_document(source)
                removed.append(FileResult(source, "removed", chunks=chunks))
        return removed

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
            search_texts = [document.readable(span.start, span.end) for span in spans]
        else:
            spans, search_texts = self.spans(source, loaded.text), []
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
        )


class _Batch:
    """Collects chunked documents until enough chunks to embed together, then commits each."""

    def __init__(
        self,
        ingestor: Ingestor,
        results: list[FileResult],
        progress: ProgressCallback | None,
        started: float,
        total: int,
    ) -> None:
        self.ingestor = ingestor
        self.results = results
        self.progress = progress
        self.started = started
        self.total = total
        self.done = 0
        self.chunks_embedded = 0
        self.pending: list[_Pending] = []

    def add_file(self, path: Path, known: dict[str, str]) -> None:
        source = str(path)
        try:
            limits = self.ingestor.limits
            check_size(path.name, path.stat().st_size, limits.max_bytes)
            data = path.read_bytes()
            fingerprint = content_hash(data)
            if known.get(source) == fingerprint:
                self._finish(FileResult(source, "unchanged"))
                return
            self._report(self.chunks_embedded, source)  # a big file to parse names itself first
            loaded = load_bytes(path.name, data, limits.max_bytes, self.ingestor.ocr, limits.parse)
            document = self.ingestor.new_document(source, loaded, fingerprint, len(data))
        except (DocumentError, OSError) as error:
            self._finish(FileResult(source, "failed", reason=_reason(error)))
            return
        self._queue(document, "updated" if source in known else "added", loaded.warnings)

    def add_text(self, item: TextItem, known: dict[str, str]) -> None:
        data = item.text.encode("utf-8")
        fingerprint = content_hash(data, item.title)
        if known.get(item.source) == fingerprint:
            self._finish(FileResult(item.source, "unchanged"))
            return
        if not item.text.strip():
            self._finish(FileResult(item.source, "failed", reason="the text is empty"))
            return
        title = item.title or item.source
        metadata = item.metadata or {}
        try:
            spans = self.ingestor.spans(item.source, item.text)
        except DocumentError as error:
            self._finish(FileResult(item.source, "failed", reason=str(error)))
            return
        document = NewDocument(
            item.source, title, item.text, fingerprint, len(data), spans, np.zeros((0, 0)), (), metadata
        )
        self._queue(document, "updated" if item.source in known else "added", ())

    def _queue(self, document: NewDocument, status: str, warnings: tuple[str, ...]) -> None:
        split = self.ingestor.sentences
        sentences = tuple(dict.fromkeys(split(document.text))) if split else ()
        self.pending.append(_Pending(document, status, warnings, sentences))
        if sum(len(item.document.spans) for item in self.pending) >= EMBED_BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        """Embed all pending chunks in one call, then commit each document in its own transaction."""
        if not self.pending:
            return
        texts = [text for item in self.pending for text in _search_texts(item.document)]
        sentence_vectors = self._sentence_vectors({text for item in self.pending for text in item.sentences})
        vectors = self._embed(texts, self.pending[-1].document.source)
        offset = 0
        for item in self.pending:
            count = len(item.document.spans)
            document = replace(
                item.document,
                vectors=vectors[offset : offset + count],
                sentence_vectors={text: sentence_vectors[text] for text in item.sentences},
            )
            offset += count
            self.ingestor.store.put_document(document)
            self.chunks_embedded += count
            self._finish(FileResult(document.source, item.status, chunks=count, warnings=item.warnings))
        self.pending = []

    def _embed(self, texts: list[str], current: str) -> np.ndarray:
        """Embed in slices, reporting progress after each: one long file must not look stuck."""
        if len(texts) <= EMBED_BATCH_CHUNKS:
            return self.ingestor.embedder.embed(texts)
        slices = []
        for start in range(0, len(texts), EMBED_BATCH_CHUNKS):
            slices.append(self.ingestor.embedder.embed(texts[start : start + EMBED_BATCH_CHUNKS]))
            self._report(self.chunks_embedded + min(start + EMBED_BATCH_CHUNKS, len(texts)), current)
        return np.concatenate(slices)

    def _sentence_vectors(self, sentences: set[str]) -> dict[str, np.ndarray]:
        """Vectors of the sentences: those already in the index (an edited file) are not embedded again."""
        if not sentences:
            return {}
        embedder = self.ingestor.embedder
        found = self.ingestor.store.sentence_vectors(sorted(sentences), embedder.dimension)
        missing = sorted(sentences - found.keys())
        return found | dict(zip(missing, embedder.embed(missing), strict=True))

    def _finish(self, result: FileResult) -> None:
        self.results.append(result)
        self.done += 1
        self._report(self.chunks_embedded, result.source)

    def _report(self, chunks: int, current: str) -> None:
        if self.progress is not None:
            elapsed = time.perf_counter() - self.started
            self.progress(IngestProgress(self.done, self.total, chunks, elapsed, current))


def _search_texts(document: NewDocument) -> list[str]:
    """What each chunk is embedded as: its search text, else its own text."""
    return list(document.search_texts) or [span.text for span in document.spans]


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
