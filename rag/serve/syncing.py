"""`rag serve --sync`: each collection kept in step with its sources by a thread of the server,
writing with the model the collection already loaded and under the server's own write lock."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.display import printable
from rag.ingest.writer import IndexWriter
from rag.knowledge_base import KnowledgeBase
from rag.serve.collections import Collection, Collections
from rag.sources.runner import start_watching
from rag.sources.sync import PassReport


class CollectionIndex:
    """A served collection as sync writes to it: a pass holds the collection's write lock, so an
    upload arriving meanwhile waits for the pass to end instead of being refused."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.folder: Path = collection.base.folder
        self.url = collection.base.url
        # Its own connections (the sync thread writes) but the served model, not a second copy.
        self.base = KnowledgeBase(self.folder, collection.base.settings, collection.base.embedder)

    @contextmanager
    def writing(self) -> Iterator[IndexWriter]:
        """The write lock of this server, then the index folder's."""
        with self.collection.write_lock, self.base.writing() as writer:
            yield writer


def start_syncing(collections: Collections, stop: threading.Event) -> None:
    """Watch each folder collection's declared sources in a thread, until stop is set."""
    for name in collections.names:
        collection = collections.get(name)
        if collection.base.url is not None:
            print(
                f"note: collection {name} is not synced: --sync keeps folder collections in step, and"
                f" {collection.base.location} is a PostgreSQL index (add and remove its documents with"
                " `rag ingest` and `rag remove`, or through the API)",
                file=sys.stderr,
            )
            continue

        def report(reports: list[PassReport], name: str = name) -> None:
            for result in reports:
                if result.added or result.updated or result.renamed or result.removed or result.error:
                    counts = f"+{result.added} ~{result.updated} >{result.renamed} -{result.removed}"
                    print(
                        f"sync {name}: {printable(result.location)}: {counts} {printable(result.error)}",
                        file=sys.stderr,
                        flush=True,
                    )

        if start_watching(CollectionIndex(collection), report, stop) is None:
            print(
                f"note: collection {name} declares no sources (docs/sync.md); it is not synced",
                file=sys.stderr,
            )
