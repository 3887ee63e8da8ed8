"""The Source protocol: list entries with a cheap change token, fetch an entry's bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.errors import RagError


class SourceUnavailable(RagError):
    """A source could not be listed (a folder gone, a bucket or site unreachable): keep its documents."""


@dataclass(frozen=True)
class Entry:
    """One document a source lists: its key, its change token, and whether it is still being written."""

    key: str
    token: str
    document: str  # the source name the index stores it under
    name: str  # the file name its type is read from
    settled: bool = True  # False: written too recently to be read whole (a partial write)
    failure: str = ""  # listed but not checkable this pass (a page that timed out): kept as it was


class Source(Protocol):
    """Where documents live. A new kind (Git, WebDAV, SharePoint) is one module implementing this."""

    @property
    def location(self) -> str:
        """The source's identity in status and state: a folder path, s3://bucket/prefix, a URL."""
        ...

    def entries(self, known: Mapping[str, str]) -> Sequence[Entry]:
        """Every entry, with its token; known maps keys to the tokens of the last pass (for
        conditional requests). Raises SourceUnavailable when nothing can be listed."""
        ...

    def fetch(self, entry: Entry) -> bytes:
        """The entry's bytes; an OSError or RagError when it cannot be read now."""
        ...


def document_prefix(source: Source) -> str | None:
    """The prefix every stored name of a source starts with (a folder's path and a slash), if it has
    one: a first pass then also knows the documents an earlier `rag ingest` stored under it."""
    prefix = getattr(source, "document_prefix", None)
    return prefix if isinstance(prefix, str) else None
