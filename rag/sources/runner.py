"""Sync passes over an index's declared sources, once or watching: folder events, remote schedules."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.errors import RagError
from rag.ingest.chunking import split_text
from rag.sources.config import SOURCES_FILE, SourceSpec, load_specs, make_source, spec_from_dict
from rag.sources.state import SyncState
from rag.sources.sync import PassReport, SyncPass, Writer
from rag.storage.engine import public_location

DEFAULT_EVERY_SECONDS = 600.0
DEBOUNCE_MILLISECONDS = 500
POLL_SECONDS = 2.0
RETRY_SECONDS = 5.0


class Index(Protocol):
    """What sync needs of an index: its folder and a writing session (a KnowledgeBase)."""

    folder: Path

    @property
    def url(self) -> str | None:
        """The database URL of an index in PostgreSQL; None for a folder."""
        ...

    def writing(self) -> AbstractContextManager[Writer]: ...


def check_syncable(index: Index) -> None:
    """A one-line error for an index in PostgreSQL: what a sync remembers of each source
    (sync-state.json) is kept in the index folder, and a database index has none."""
    if index.url is not None:
        raise RagError(
            f"sync keeps folder indexes in step; {public_location(index.url)} is a PostgreSQL index:"
            " sync into a folder index, or add and remove its documents with `rag ingest` and `rag remove`"
        )


@dataclass(frozen=True)
class SyncOptions:
    """How passes run: mass deletions allowed, how often a full pass comes under --watch."""

    allow_mass_delete: bool = False
    every_seconds: float = DEFAULT_EVERY_SECONDS


def declared_specs(folder: Path, given: Sequence[SourceSpec]) -> list[SourceSpec]:
    """The sources to sync: those given, else the index's sources.toml and those synced before."""
    if given:
        return list(given)
    specs = load_specs(folder / SOURCES_FILE) if (folder / SOURCES_FILE).exists() else []
    declared = {spec.location for spec in specs}
    for location, state in SyncState(folder).sources.items():
        if location not in declared and state.spec:
            specs.append(spec_from_dict(state.spec))
    if not specs:
        raise RagError(
            f"no sources to sync for {folder}: give folders, s3:// or http(s):// locations, or write {folder / SOURCES_FILE}"
        )
    return specs


def sync_once(index: Index, specs: Sequence[SourceSpec], options: SyncOptions) -> list[PassReport]:
    """One pass of every source, under one write lock; the state is saved as each commit lands."""
    check_syncable(index)
    reports = []
    with index.writing() as writer:
        state = SyncState(index.folder)
        for spec in specs:
            source = make_source(spec)
            source_state = state.source(source.location)
            source_state.spec = spec.to_dict()
            sync = SyncPass(
                source,
                source_state,
                writer,
                state.save,
                spec.max_delete_share,
                options.allow_mass_delete,
                None if spec.read is None else frozenset(spec.read),
            )
            reports.append(sync.run())
            every = spec.every_seconds or options.every_seconds
            source_state.next_run = time.time() + every
        state.save()
    return reports


def watch(
    index: Index,
    specs: Sequence[SourceSpec],
    options: SyncOptions,
    report: Callable[[list[PassReport]], None],
    stop: threading.Event | None = None,
) -> None:
    """Sync now, then on folder events (debounced) and on each source's schedule, until stop is set."""
    check_syncable(index)
    stop = stop or threading.Event()
    # The text splitter loads on first use (a second or more): load it now, not when a change waits.
    split_text("warm up", 100, 0)
    due = {spec.location: 0.0 for spec in specs}
    folders = [spec for spec in specs if spec.kind == "folder"]
    events = _folder_events([Path(spec.location) for spec in folders], stop)
    while not stop.is_set():
        now = time.time()
        ready = [spec for spec in specs if due[spec.location] <= now]
        if ready:
            try:
                reports = sync_once(index, ready, options)
            except RagError as error:  # another writer holds the lock, a full disk: try again soon
                reports = [PassReport(spec.location, error=f"{error}; retrying") for spec in ready]
                for spec in ready:
                    due[spec.location] = now + RETRY_SECONDS
                report(reports)
                continue
            report(reports)
            for spec, result in zip(ready, reports, strict=True):
                every = spec.every_seconds or options.every_seconds
                # A file still being written is looked at again once it has had time to settle.
                due[spec.location] = now + (spec.settle_seconds + 0.2 if result.pending else every)
        wait = max(0.05, min(due.values()) - time.time())
        for changed in events(wait):
            for spec in folders:
                if changed == Path(spec.location) or Path(spec.location) in changed.parents:
                    due[spec.location] = 0.0


def start_watching(
    index: Index, report: Callable[[list[PassReport]], None], stop: threading.Event
) -> threading.Thread | None:
    """Watch the index's declared sources in a daemon thread until stop is set (`--sync` of a
    server); None when the index declares none. Give it its own KnowledgeBase: the thread writes.
    An index in PostgreSQL is a one-line error (check_syncable)."""
    check_syncable(index)
    try:
        specs = declared_specs(index.folder, [])
    except RagError:
        return None
    worker = threading.Thread(
        target=watch, args=(index, specs, SyncOptions(), report, stop), name="sync-watch", daemon=True
    )
    worker.start()
    return worker


def _folder_events(roots: list[Path], stop: threading.Event) -> Callable[[float], list[Path]]:
    """A function waiting up to N seconds for changed paths under the roots: watchfiles' events,
    debounced; without watchfiles, every folder counts as changed every POLL_SECONDS."""
    if roots:
        try:
            from rag.sources.events import event_stream
        except ImportError:
            print(
                f"note: watchfiles is not installed (pip install 'verbatim[sync]'): folders are polled"
                f" every {POLL_SECONDS:.0f} s instead of watched",
                file=sys.stderr,
            )
        else:
            return event_stream(roots, stop, DEBOUNCE_MILLISECONDS)

    def poll(seconds: float) -> list[Path]:
        stop.wait(min(seconds, POLL_SECONDS) if roots else seconds)
        return list(roots)

    return poll
