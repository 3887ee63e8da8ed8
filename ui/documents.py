"""The Documents tab's logic: keep uploads, ingest them with progress, list and remove documents."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import rag
from rag.ingest import keep_uploads as keep_accepted
from ui import render

POLL_SECONDS = 0.25
LOCK_RETRY_SECONDS = 0.5
LOCK_WAIT_SECONDS = 1800.0  # a first sync of a large folder can hold the index this long
WAITING_TEXT = "waiting: a sync pass (or another process) is writing to the index; the files go in after it"


@dataclass(frozen=True)
class IngestUpdate:
    """One step of an upload: progress text, and at the end the per-file results."""

    progress: str
    results_html: str = ""
    is_done: bool = False
    report: rag.IngestReport | None = None  # at the end, when anything was indexed


def keep_uploads(
    files: Sequence[str | Path], uploads: Path, max_bytes: int
) -> tuple[list[Path], list[tuple[str, str]], dict[str, str]]:
    """Copy accepted uploads into the uploads folder: (kept paths, refused (name, reason), names)."""
    named = [(Path(file).name, Path(file)) for file in files]
    kept, refused = keep_accepted(named, uploads, max_bytes)
    names = {os.path.abspath(target): target.name for target in kept}
    return kept, refused, names


def ingest_uploads(
    base: rag.KnowledgeBase, files: Sequence[str | Path], uploads: Path, max_bytes: int
) -> Iterator[IngestUpdate]:
    """Check, keep and ingest uploaded files, yielding progress and finally the per-file results."""
    if base.url is not None:  # uploads are kept in a folder beside the index, and a database has none
        yield IngestUpdate(
            f"{base.location} is a PostgreSQL index: add documents with `rag ingest PATH --index URL`.",
            is_done=True,
        )
        return
    if not files:
        yield IngestUpdate("Choose one or more files first.", is_done=True)
        return
    kept, refused, names = keep_uploads(files, uploads, max_bytes)
    if not kept:
        yield IngestUpdate("No file was accepted.", render.rejected_html(refused), True)
        return
    updates: queue.Queue[rag.IngestProgress] = queue.Queue()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["report"] = _ingest_when_free(base, kept, updates, outcome)
        except rag.RagError as error:
            outcome["error"] = error
        except Exception as error:  # noqa: BLE001 - shown in the page, not lost in a thread
            outcome["error"] = (
                f"{type(error).__name__}: {error}; the files kept so far are indexed at the next start"
            )

    worker = threading.Thread(target=run, name="ui-ingest", daemon=True)
    started = time.monotonic()
    worker.start()
    status, shown = f"0/{len(kept)} files", ""
    # Progress arrives per finished file, so the elapsed time keeps a long single file visibly alive.
    while worker.is_alive():
        worker.join(POLL_SECONDS)
        latest = _drain(updates)
        if latest is not None:
            status = progress_text(latest)
        elif "waiting" in outcome:
            status = WAITING_TEXT
        elif status == WAITING_TEXT:
            status = f"0/{len(kept)} files"
        text = f"Indexing: {status} · {time.monotonic() - started:.0f} s elapsed"
        if text != shown:
            shown = text
            yield IngestUpdate(text)
    report = outcome.get("report")
    if not isinstance(report, rag.IngestReport):
        message = f"Indexing failed: {outcome.get('error', 'unknown error')}"
        yield IngestUpdate(message, render.rejected_html(refused), True)
        return
    done = f"Done: {report.count('added')} added, {report.count('updated')} updated, "
    done += f"{report.count('unchanged')} unchanged, {report.count('failed') + len(refused)} failed."
    yield IngestUpdate(done, render.rejected_html(refused) + render.report_html(report, names), True, report)


def _ingest_when_free(
    base: rag.KnowledgeBase,
    kept: list[Path],
    updates: queue.Queue[rag.IngestProgress],
    outcome: dict[str, object],
) -> rag.IngestReport:
    """Ingest the kept files, waiting (up to LOCK_WAIT_SECONDS) while a sync pass or another
    process holds the index's write lock: the upload is queued, not refused."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            report = base.ingest(kept, progress=updates.put)
        except rag.IndexLockedError:
            if time.monotonic() > deadline:
                raise
            outcome["waiting"] = True
            time.sleep(LOCK_RETRY_SECONDS)
            continue
        outcome.pop("waiting", None)
        return report


def recover_uploads(base: rag.KnowledgeBase, uploads: Path) -> rag.IngestReport | None:
    """Index files a crashed upload left in the uploads folder, and drop half-copied ones."""
    if not uploads.is_dir():
        return None
    for partial in uploads.glob(".*.partial"):
        partial.unlink(missing_ok=True)
    indexed = {info.source for info in base.documents()} if base.exists else set()
    pending = [
        path for path in sorted(uploads.iterdir()) if path.is_file() and os.path.abspath(path) not in indexed
    ]
    pending = [path for path in pending if not path.name.startswith(".")]
    return base.ingest(pending) if pending else None


def _drain(updates: queue.Queue[rag.IngestProgress]) -> rag.IngestProgress | None:
    latest = None
    while True:
        try:
            latest = updates.get_nowait()
        except queue.Empty:
            return latest


def progress_text(progress: rag.IngestProgress) -> str:
    """'2/5 files · 40 chunks · 3.1 s · now: notes.md'."""
    current = Path(progress.current).name if progress.current else ""
    text = f"{progress.done}/{progress.total} files · {progress.chunks} chunks · {progress.seconds:.1f} s"
    return text + (f" · last: {current}" if current else "")


def remove_document(base: rag.KnowledgeBase, source: str) -> tuple[str, str]:
    """Remove one document: (what happened, the removed source or "").

    The source is resolved through `base`, so a reader's view cannot remove what it may not read.
    """
    if not source:
        return "Choose a document to remove.", ""
    try:
        stored = base.resolve_source(source)
        chunks = base.remove(stored)
    except rag.RagError as error:
        return f"Could not remove it: {error}", ""
    return f"Removed {Path(stored).name} ({chunks} chunks).", stored


def document_choices(base: rag.KnowledgeBase) -> list[tuple[str, str]]:
    """(label, source) pairs for the remove menu."""
    return [(f"{Path(info.source).name} — {info.title}", info.source) for info in base.documents()]
