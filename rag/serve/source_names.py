"""Stored sources as a server's caller sees them: relative to the collection, never a server folder.

A document ingested from a folder is stored under its absolute path (`/srv/data/docs/a.txt`), an
upload under the index's `uploads/` folder. Over HTTP and MCP the first is named from the folder
that holds every ingested file of the collection (`docs/a.txt`), the second by its kept name
(`a.txt`); other sources (a URL, a name given by a program) are shown as they are. Each shown name
is unique in its collection and leads back to the stored source, so a caller can remove or narrow
a document by the name it sees.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from rag.ingest.uploads import UPLOADS_FOLDER
from rag.knowledge_base import KnowledgeBase


def shown_names(sources: Sequence[str], uploads: Sequence[Path]) -> dict[str, str]:
    """Each stored source -> the name a caller sees (see the module's docstring)."""
    prefixes = {str(folder).rstrip("/") + "/" for folder in uploads}
    uploaded = {source for source in sources if any(source.startswith(prefix) for prefix in prefixes)}
    ingested = [source for source in sources if os.path.isabs(source) and source not in uploaded]
    # The parent of the folder holding every ingested file: its name starts each shown name.
    root = (
        os.path.dirname(os.path.commonpath([os.path.dirname(source) for source in ingested]))
        if ingested
        else ""
    )
    shown = {}
    for source in sources:
        if source in uploaded:
            shown[source] = next(source.removeprefix(p) for p in prefixes if source.startswith(p))
        elif source in ingested:
            shown[source] = os.path.relpath(source, root)
        else:
            shown[source] = source
    return shown


class SourceNames:
    """The shown names of one collection's sources, worked out again only after a change."""

    def __init__(self, base: KnowledgeBase) -> None:
        self._base = base
        folder = base.folder
        self._uploads = (
            []
            if base.url is not None
            else [folder.absolute() / UPLOADS_FOLDER, folder.resolve() / UPLOADS_FOLDER]
        )
        self._lock = threading.Lock()
        self._generation = -1
        self._shown: dict[str, str] = {}
        self._stored: dict[str, str] = {}

    def shown(self, source: str) -> str:
        """The name a caller sees for a stored source."""
        shown = self._current()[0]
        if source not in shown:  # stored after the names were worked out: work them out again
            shown = self._current(refresh=True)[0]
        return shown.get(source, source)

    def stored(self, name: str) -> str:
        """The stored source a caller's name refers to: a shown name's source, else the name as given
        (a file name or unique suffix, which KnowledgeBase.resolve_source looks up)."""
        return self._current()[1].get(name, name)

    def _current(self, refresh: bool = False) -> tuple[dict[str, str], dict[str, str]]:
        generation = self._base.store.generation()
        with self._lock:
            if refresh or generation != self._generation:
                self._shown = shown_names(self._base.store.sources(), self._uploads)
                self._stored = {name: source for source, name in self._shown.items()}
                self._generation = generation
            return self._shown, self._stored
