"""What both engines take and give back (a document to write, listings, chunk records, a paged
file), the rule both apply to an index built with other settings, and the SQL both run alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.errors import IndexMismatchError
from rag.types import Chunk, Location, PageGeometry, TextSpan

# The languages an index holds, asked by every search: each step hops to the next language in the
# documents' language index instead of reading every document's row (SQLite and PostgreSQL alike).
DISTINCT_LANGUAGES = """
WITH RECURSIVE found(language) AS (
    SELECT min(language) FROM documents
    UNION ALL
    SELECT (SELECT min(language) FROM documents WHERE language > found.language)
    FROM found WHERE found.language IS NOT NULL
)
SELECT language FROM found WHERE language IS NOT NULL
"""


@dataclass(frozen=True)
class NewDocument:
    """A document ready to be written: text, chunk spans and their vectors."""

    source: str
    title: str
    text: str
    content_hash: str
    size_bytes: int
    spans: Sequence[TextSpan]
    vectors: np.ndarray
    page_starts: tuple[int, ...] = ()
    metadata: dict[str, object] | None = None
    locations: tuple[Location, ...] = ()
    search_texts: Sequence[str] = ()  # per span, what it is embedded and found by; () = its text
    sentence_vectors: Mapping[str, np.ndarray] | None = None  # sentence text -> unit vector
    language: str = "und"
    script: str = ""
    geometry: tuple[PageGeometry, ...] = ()  # where each page's characters sit (PDFs, pictures)


@dataclass(frozen=True)
class PagedFile:
    """What showing a stored document's pages needs: its file, what that file was, its page count."""

    key: int
    id: str
    source: str
    content_hash: str
    file_type: str
    pages: int
    has_geometry: bool  # False: ingested before page boxes were stored, or a file without pages


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its text, for listings."""

    id: str
    source: str
    title: str
    size_bytes: int
    characters: int
    chunks: int
    added_at: str
    language: str = "und"
    script: str = ""

    @property
    def language_label(self) -> str:
        """'de · Latin': the detected language code and the script."""
        return f"{self.language} · {self.script}" if self.script else self.language

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk joined with what a Passage needs from its document."""

    chunk: Chunk
    source: str
    title: str
    page_starts: tuple[int, ...]
    location: str | None  # the label of the location the chunk starts in


def refuse_other_settings(
    current: Mapping[str, str], expected: Mapping[str, str], index: str, instead: str
) -> None:
    """Refuse an index whose manifest was built with other settings (model, dimension, chunking)
    than these, in either engine: `index` names it, `instead` says where else to write."""
    for key, value in expected.items():
        if current.get(key) != value:
            raise IndexMismatchError(
                f"{index} was built with {key}={current.get(key)!r}, not {value!r}: use the same setting, or {instead}"
            )
