"""Ingest files and texts: skip unchanged content, embed in batches, commit per document."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from rag.embedding import Embedder
from rag.ingest.ignore import IgnoreRules
from rag.ingest.loaders import is_supported
from rag.ingest.overlap import prepared_ahead
from rag.ingest.preparing import Blob, FilePreparer, Prepared
from rag.storage.engine import DocumentStore
from rag.types import FileResult, IngestProgress, IngestReport, ProgressCallback, TextItem

# Chunks embedded (with their sentences) and committed together, unless the embedder names a
# smaller batch (`ingest_batch`): a slow model (multilingual-e5-small took ~13 minutes for 256
# chunks on two busy cores) must still show progress. A number, not a pace measured on the
# clock: the same files make the same batches, so the same vectors, however busy the machine.
EMBED_BATCH_CHUNKS = 256


def discover(paths: Sequence[Path], follow_links: bool = False) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest under the given paths (recursive; hidden entries and those a folder's
    .ragignore names skipped) and rejects.

    A file is named by the path it was found at, not by where a symbolic link points, so
    that --prune removes it once the link is gone. Inside a folder, a link whose target lies
    outside it is skipped unless follow_links: whoever may drop a link into a shared folder
    must not make any file this process can read searchable. A name that is not valid UTF-8
    cannot be stored: it is reported (escaped), never fatal to the batch.
    """
    files: list[Path] = []
    rejected: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            _walk(path, files, rejected, follow_links)
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


def printable_source(path: Path) -> str:
    """The source name with bytes that are not UTF-8 escaped (\\xff), as a report can show it."""
    return os.fsencode(source_of(path)).decode("utf-8", "backslashreplace")


def _walk(root: Path, files: list[Path], rejected: list[FileResult], follow_links: bool) -> None:
    def unreadable(error: OSError) -> None:
        reason = f"cannot read the folder ({error.strerror}); its files were not ingested"
        rejected.append(FileResult(printable_source(Path(error.filename or root)), "failed", reason=reason))

    real_root = root.resolve()
    ignore = IgnoreRules()
    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        ignore.enter(folder)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".") and not ignore.ignores(os.path.join(folder, name), is_folder=True)
        )
        for name in sorted(names):
            child = Path(folder) / name
            if name.startswith(".") or ignore.ignores(str(child)):
                continue
            if child.is_symlink() and not follow_links and _leaves(child, real_root):
                reason = "symbolic link to a file outside the folder; give --follow-links to ingest it"
                rejected.append(FileResult(printable_source(child), "skipped", reason=reason))
            elif child.is_file():
                _sort_file(child, files, rejected)
            elif child.is_symlink() and not child.exists():
                rejected.append(_broken_link(child))


def _leaves(link: Path, real_root: Path) -> bool:
    """Whether a symbolic link points outside the folder (a loop counts as leaving it)."""
    try:
        return not link.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):
        return True


def _broken_link(path: Path) -> FileResult:
    target = os.fsencode(os.readlink(path)).decode("utf-8", "backslashreplace")
    return FileResult(
        printable_source(path), "failed", reason=f"broken symbolic link (its target {target} is missing)"
    )


def _sort_file(path: Path, files: list[Path], rejected: list[FileResult]) -> None:
    if printable_source(path) != source_of(path):
        reason = "the file name is not valid UTF-8 (shown escaped); rename the file to ingest it"
        rejected.append(FileResult(printable_source(path), "failed", reason=reason))
    elif is_supported(path):
        files.append(Path(source_of(path)))
    else:
        reason = f"unsupported file type {path.suffix or '(no extension)'}"
        rejected.append(FileResult(source_of(path), "skipped", reason=reason))


def reuse_or_embed(
    store: DocumentStore, embedder: Embedder, sentences: Iterable[str]
) -> tuple[dict[str, np.ndarray], int]:
    """Vectors of the sentences, those the index already holds reused and only the rest embedded;
    and how many were embedded."""
    wanted = set(sentences)
    if not wanted:
        return {}, 0
    found = store.sentence_vectors(sorted(wanted), embedder.dimension)
    missing = sorted(wanted - found.keys())
    return found | dict(zip(missing, embedder.embed(missing), strict=True)), len(missing)


class Ingestor:
    """Turns files and texts into committed documents of one store."""

    def __init__(
        self, store: DocumentStore, embedder: Embedder, preparer: FilePreparer, follow_links: bool = False
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.preparer = preparer
        self.follow_links = follow_links  # links in a folder leading out of it are followed

    def ingest_files(
        self, paths: Sequence[Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest files and folders; with prune, drop documents under them whose files are gone."""
        started = time.perf_counter()
        files, results = discover(paths, self.follow_links)
        known = self.store.content_hashes([str(path) for path in files])
        batch = Batch(self, results, progress, started, len(files))

        def prepare(path: Path) -> Prepared | FileResult:
            return self.preparer.prepare_file(path, known.get(str(path)), partial(batch.parsing, str(path)))

        for outcome in prepared_ahead(files, prepare):
            batch.add(outcome)
        batch.flush()
        return self.finish(batch, paths if prune else (), files)

    def finish(self, batch: Batch, pruned_roots: Sequence[Path], files: Sequence[Path]) -> IngestReport:
        """The report of an ingest, after pruning the documents under pruned_roots whose files are gone."""
        if pruned_roots:
            batch.results.extend(self._prune(pruned_roots, {str(path) for path in files}))
        return IngestReport(tuple(batch.results), batch.chunks_embedded, time.perf_counter() - batch.started)

    def ingest_texts(
        self, items: Iterable[TextItem], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest documents given as text; unchanged texts are skipped."""
        started = time.perf_counter()
        items = list(items)
        results: list[FileResult] = []
        known = self.store.content_hashes([item.source for item in items])
        batch = Batch(self, results, progress, started, len(items))
        for outcome in prepared_ahead(
            items, lambda item: self.preparer.prepare_text(item, known.get(item.source))
        ):
            batch.add(outcome)
        batch.flush()
        return self.finish(batch, (), ())

    def ingest_blobs(self, blobs: Sequence[Blob], progress: ProgressCallback | None = None) -> IngestReport:
        """Ingest files given as bytes under their source names; unchanged content is skipped."""
        started = time.perf_counter()
        results: list[FileResult] = []
        known = self.store.content_hashes([blob.source for blob in blobs])
        batch = Batch(self, results, progress, started, len(blobs))
        for outcome in prepared_ahead(
            blobs, lambda blob: self.preparer.prepare_bytes(blob, known.get(blob.source))
        ):
            batch.add(outcome)
        batch.flush()
        return self.finish(batch, (), ())

    def _prune(self, roots: Sequence[Path], present: set[str]) -> list[FileResult]:
        folders = [source_of(root) for root in roots if root.is_dir()]
        removed = []
        for source in self.store.sources():
            under_root = any(source.startswith(folder.rstrip("/") + "/") for folder in folders)
            if under_root and source not in present and not Path(source).exists():
                chunks = self.store.remove_document(source)
                removed.append(FileResult(source, "removed", chunks=chunks))
        return removed


class Batch:
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
        self.pending: list[Prepared] = []
        self.batch_chunks = int(getattr(ingestor.embedder, "ingest_batch", EMBED_BATCH_CHUNKS))

    def add(self, outcome: Prepared | FileResult) -> None:
        """Queue a prepared document for embedding, or record a file that needs none."""
        if isinstance(outcome, FileResult):
            self._finish(outcome)
            return
        self.pending.append(outcome)
        if sum(len(item.document.spans) for item in self.pending) >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        """Embed all pending chunks in one call, then commit each document in its own transaction."""
        if not self.pending:
            return
        texts = [text for item in self.pending for text in item.search_texts()]
        # Chunks and sentences are embedded in separate calls, never in one mixed pass: the
        # model's vectors depend on what shares a batch, and a chunk must get the vector it gets
        # anywhere else (a Ray worker, a re-ingest), not one that depends on the sentences beside it.
        sentence_vectors = self._sentence_vectors({text for item in self.pending for text in item.sentences})
        vectors = self._embed(texts, self.pending[-1].document.source)
        offset = 0
        for item in self.pending:
            count = len(item.document.spans)
            self.commit(
                item,
                vectors[offset : offset + count],
                {text: sentence_vectors[text] for text in item.sentences},
            )
            offset += count
        self.pending = []

    def commit(self, item: Prepared, vectors: np.ndarray, sentence_vectors: Mapping[str, np.ndarray]) -> None:
        """Store one embedded document, with its sentences' vectors, in its own transaction; count it done."""
        document = replace(item.document, vectors=vectors, sentence_vectors=sentence_vectors)
        self.ingestor.store.put_document(document)
        self.chunks_embedded += len(item.document.spans)
        self._finish(
            FileResult(
                item.document.source, item.status, chunks=len(item.document.spans), warnings=item.warnings
            )
        )

    def _embed(self, texts: list[str], current: str) -> np.ndarray:
        """Embed in slices, reporting progress after each: one long file must not look stuck."""
        if len(texts) <= EMBED_BATCH_CHUNKS:
            return self.ingestor.embedder.embed(texts)
        slices = []
        for start in range(0, len(texts), EMBED_BATCH_CHUNKS):
            slices.append(self.ingestor.embedder.embed(texts[start : start + EMBED_BATCH_CHUNKS]))
            self.report(self.chunks_embedded + min(start + EMBED_BATCH_CHUNKS, len(texts)), current)
        return np.concatenate(slices)

    def _sentence_vectors(self, sentences: set[str]) -> dict[str, np.ndarray]:
        """Vectors of the sentences: those already in the index (an edited file) are not embedded again."""
        return reuse_or_embed(self.ingestor.store, self.ingestor.embedder, sentences)[0]

    def _finish(self, result: FileResult) -> None:
        self.results.append(result)
        self.done += 1
        self.report(self.chunks_embedded, result.source)

    def parsing(self, source: str) -> None:
        """Name the file about to be parsed (a big one can take a while)."""
        self.report(self.chunks_embedded, source)

    def report(self, chunks: int, current: str) -> None:
        """Tell the progress callback where the ingest is."""
        if self.progress is not None:
            elapsed = time.perf_counter() - self.started
            self.progress(IngestProgress(self.done, self.total, chunks, elapsed, current))
