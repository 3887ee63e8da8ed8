"""One sync pass of a source into an index: ingest what is new or changed, rename what moved,
remove what is gone, and keep everything when the source cannot be trusted to be complete."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from rag.errors import RagError
from rag.ingest.hashing import content_hash
from rag.ingest.preparing import Blob
from rag.sources.base import Entry, Source, SourceUnavailable, document_prefix
from rag.sources.state import MAX_FAILURES_KEPT, SourceState
from rag.types import IngestReport

BATCH_FILES = 32
BATCH_BYTES = 64 * 1024 * 1024
SAVE_EVERY = 64  # removals between state writes
STORED_KEY = "stored:"  # keys of documents found in the index, not yet listed by the source


class Writer(Protocol):
    """What a pass needs of an index: `KnowledgeBase.writing()` gives one."""

    def add_blobs(self, blobs: Sequence[Blob]) -> IngestReport: ...

    def content_hashes(self, sources: Sequence[str]) -> dict[str, str]: ...

    def sources_under(self, prefix: str) -> list[str]: ...

    def rename(self, source: str, new_source: str) -> None: ...

    def remove(self, source: str) -> int: ...

    def readers(self) -> dict[str, frozenset[str]]: ...

    def set_readers(self, sources: Sequence[str], groups: frozenset[str]) -> None: ...


@dataclass
class PassReport:
    """What one pass of one source did."""

    location: str
    started_at: str = ""
    seconds: float = 0.0
    listed: int = 0
    added: int = 0
    updated: int = 0
    renamed: int = 0
    removed: int = 0
    unchanged: int = 0
    pending: int = 0  # still being written: left for the next pass
    failed: list[tuple[str, str]] = field(default_factory=list)
    held_removals: int = 0  # removals refused (mass deletion) or not attempted
    error: str = ""  # why the source was not (fully) synced

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "location": self.location,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 4),
            "listed": self.listed,
            "added": self.added,
            "updated": self.updated,
            "renamed": self.renamed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "pending": self.pending,
            "failed": len(self.failed),
            "failures": [list(failure) for failure in self.failed[:MAX_FAILURES_KEPT]],
            "held_removals": self.held_removals,
            "error": self.error,
        }


@dataclass
class SyncPass:
    """One pass of one source into one index writer; save() is called whenever the state moved."""

    source: Source
    state: SourceState
    writer: Writer
    save: Callable[[], None]
    max_delete_share: float = 0.5
    allow_mass_delete: bool = False
    read: frozenset[str] | None = None  # the groups that may read the source's documents

    def run(self) -> PassReport:
        """List, compare tokens, then ingest, rename and remove; the state follows each commit."""
        started = time.perf_counter()
        report = PassReport(self.source.location, datetime.now(UTC).isoformat(timespec="seconds"))
        self._adopt_stored_documents()
        known = self.state.tokens()
        try:
            entries = self.source.entries(known)
        except SourceUnavailable as error:
            report.error = str(error)
            return self._finish(report, started)
        present = [entry for entry in entries if entry.failure != "gone"]
        report.listed = len(present)
        for entry in present:
            if entry.failure:
                report.failed.append((entry.key, entry.failure))
                self.state.failing[entry.key] = entry.failure
        report.pending = sum(1 for entry in present if not entry.settled and not entry.failure)
        listed_keys = {entry.key for entry in present}
        listed_documents = {entry.document for entry in present}
        for key in [key for key in known if key.startswith(STORED_KEY)]:
            if self.state.entries[key][1] in listed_documents:
                del self.state.entries[key]  # still there: its own entry takes over
                del known[key]
        vanished = [key for key in known if key not in listed_keys]
        changed = [
            entry
            for entry in present
            if entry.settled and not entry.failure and known.get(entry.key) != entry.token
        ]
        report.unchanged = sum(
            1 for entry in present if entry.settled and known.get(entry.key) == entry.token
        )
        if self.read is not None:
            self._grant([entry.document for entry in present if not entry.failure])
        vanished = self._ingest(changed, vanished, report)
        self._remove(vanished, len(known), report)
        return self._finish(report, started)

    def _adopt_stored_documents(self) -> None:
        """On a first pass (or after the state was lost), know the documents already stored under
        the source's prefix, by their stored name and no token: those still there are checked by
        content hash, those gone are removed (within the mass-deletion limit)."""
        prefix = document_prefix(self.source)
        if self.state.entries or prefix is None:
            return
        for source in self.writer.sources_under(prefix):
            self.state.entries[STORED_KEY + source] = ["", source]

    def _grant(self, documents: list[str]) -> None:
        """Give each listed document the source's readers before it is stored: a document is never
        readable by everyone for a moment, even in a pass killed between two steps."""
        granted = self.writer.readers()
        wrong = [document for document in documents if granted.get(document) != self.read]
        if wrong and self.read is not None:
            self.writer.set_readers(wrong, self.read)

    def _ingest(self, changed: list[Entry], vanished: list[str], report: PassReport) -> list[str]:
        """Ingest changed entries in batches; a new entry holding a vanished one's bytes is a rename.

        Returns the vanished keys that were not renames.
        """
        gone_documents = {self.state.entries[key][1]: key for key in vanished}
        by_hash = {
            digest: source for source, digest in self.writer.content_hashes(list(gone_documents)).items()
        }
        batch: list[tuple[Entry, Blob]] = []
        size = 0
        for entry in changed:
            try:
                data = self.source.fetch(entry)
            except (OSError, RagError) as error:
                report.failed.append((entry.key, f"cannot read it: {error}"))
                self.state.failing[entry.key] = f"cannot read it: {error}"
                continue
            moved_from = (
                by_hash.pop(content_hash(data), None) if entry.key not in self.state.entries else None
            )
            if moved_from is not None and moved_from != entry.document:
                self.writer.rename(moved_from, entry.document)
                del self.state.entries[gone_documents.pop(moved_from)]
                self.state.entries[entry.key] = [entry.token, entry.document]
                self.state.failing.pop(entry.key, None)
                report.renamed += 1
                self.save()
                continue
            batch.append((entry, Blob(entry.document, entry.name, data)))
            size += len(data)
            if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
                self._commit(batch, report)
                batch, size = [], 0
        self._commit(batch, report)
        return list(gone_documents.values())

    def _commit(self, batch: list[tuple[Entry, Blob]], report: PassReport) -> None:
        if not batch:
            return
        results = self.writer.add_blobs([blob for _, blob in batch]).files
        outcome = {result.source: result for result in results}
        for entry, blob in batch:
            result = outcome.get(blob.source)
            status = result.status if result is not None else "failed"
            if status == "added":
                report.added += 1
            elif status == "updated":
                report.updated += 1
            elif status == "unchanged":
                report.unchanged += 1
            else:
                reason = result.reason if result is not None else "not ingested"
                report.failed.append((entry.key, reason))
                self.state.failing[entry.key] = reason
            if status != "failed":
                self.state.failing.pop(entry.key, None)
            # A file that cannot be read as a document is not retried until it changes.
            self.state.entries[entry.key] = [entry.token, entry.document]
        self.save()

    def _remove(self, vanished: list[str], known: int, report: PassReport) -> None:
        if not vanished:
            return
        limit = max(1.0, self.max_delete_share * known)
        if not self.allow_mass_delete and (len(vanished) > limit or report.listed == 0):
            report.held_removals = len(vanished)
            share = f"{len(vanished)} of {known} documents"
            report.error = (
                f"{share} are gone from {self.source.location}, over the {self.max_delete_share:.0%} a pass may"
                " remove (or the source lists nothing): kept; if they really are gone, run again with"
                " --allow-mass-delete"
            )
            return
        for done, key in enumerate(vanished, start=1):
            self.writer.remove(self.state.entries[key][1])  # 0 chunks: already gone, as a resumed pass finds
            del self.state.entries[key]
            self.state.failing.pop(key, None)
            report.removed += 1
            if done % SAVE_EVERY == 0:
                self.save()
        self.save()

    def _finish(self, report: PassReport, started: float) -> PassReport:
        report.seconds = time.perf_counter() - started
        self.state.last = report.to_dict()
        if (
            report.added
            or report.updated
            or report.renamed
            or report.removed
            or report.failed
            or report.error
        ):
            self.state.last_change = self.state.last
        self.save()
        return report
