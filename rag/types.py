"""The data model: frozen dataclasses with to_dict() for JSON output."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rag.tables import render_records


def _as_dict(value: Any) -> dict[str, Any]:
    return dataclasses.asdict(value)


def document_id(text: str) -> str:
    """A document's id: sha256 of the NFC-normalised text with unified line endings."""
    normalised = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def page_number(page_starts: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page whose start is the last one at or before offset; None when unpaged."""
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


class Location(NamedTuple):
    """A named place of a document starting at text[start]: "slide 2: Budget", "sheet Budget, row 3"."""

    # A tuple, not a dataclass: a 200,000-row .csv loads one per row with each ask.
    start: int
    label: str


def location_at(locations: tuple[Location, ...], offset: int) -> str | None:
    """The label of the last location starting at or before offset; None before the first one."""
    index = bisect.bisect_right(locations, offset, key=lambda location: location.start)
    return locations[index - 1].label if index else None


class StructureSpan(NamedTuple):
    """A part of a document's text with a role: its title, a heading, the byline, a post's author or date."""

    kind: str  # one of rag.language.structure.KINDS
    start: int
    end: int


def place_label(page: int | None, location: str | None) -> str:
    """Where a quote is, for people: its location ("slide 2", "page 3 (OCR)"), else "page n", else ""."""
    return location or (f"page {page}" if page else "")


@dataclass(frozen=True)
class Document:
    """A stored source document; quotes and chunks are offsets into its full text."""

    id: str
    source: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    page_starts: tuple[int, ...] = ()
    locations: tuple[Location, ...] = ()  # ascending by start
    language: str = "und"  # ISO 639-1 code detected at ingest; 'und' when unknown
    structure: tuple[StructureSpan, ...] = ()  # ascending by start; found at ingest

    def page_at(self, offset: int) -> int | None:
        """Return the 1-based page holding the character offset, or None for unpaged text."""
        return page_number(self.page_starts, offset)

    def location_at(self, offset: int) -> str | None:
        """Return the label of the location (slide, sheet row, OCR page...) holding the offset."""
        return location_at(self.locations, offset)

    def place_at(self, offset: int) -> str:
        """Where the offset is, for people: "slide 2: Budget", "page 3", or "" for plain text."""
        return place_label(self.page_at(offset), self.location_at(offset))

    @property
    def is_table(self) -> bool:
        """True for a .csv/.tsv kept as the file itself: each row location is one record."""
        return "columns" in self.metadata and "delimiter" in self.metadata

    def readable(self, start: int, end: int) -> str:
        """text[start:end] as it reads on its own: the rows of a .csv with their column headers.

        Only whole rows are rendered: a piece of a row too long for one chunk reads as itself
        (its first cell is not the first column)."""
        text = self.text[start:end]
        if not self.is_table:
            return text
        rows = self.row_spans(start, end)
        if not rows or rows[0].start != start or rows[-1].end != end:
            return text
        return render_records(text, self.metadata["columns"], self.metadata["delimiter"])

    def row_spans(self, start: int, end: int) -> list[TextSpan]:
        """The whole rows (row locations) of a table document that overlap [start, end)."""
        first = max(0, bisect.bisect_right(self.locations, start, key=lambda location: location.start) - 1)
        spans = []
        for index in range(first, len(self.locations)):
            row_start = self.locations[index].start
            if row_start >= end:
                break
            following = self.locations[index + 1].start if index + 1 < len(self.locations) else len(self.text)
            row = self.text[row_start:following].rstrip()
            if row and row_start + len(row) > start:
                spans.append(TextSpan(row_start, row_start + len(row), row))
        return spans

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class Chunk:
    """A span of a document; text == document.text[start:end] always."""

    id: int
    document_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class Passage:
    """A chunk returned for a question, with its rank and retrieval scores."""

    rank: int
    chunk_id: int
    document_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    text: str
    dense_score: float | None
    lexical_score: float | None
    fused_score: float
    # The best cosine between the query and one of the passage's sentences (hybrid retrieval).
    sentence_score: float | None = None
    location: str | None = None  # where the passage starts: "slide 2: Budget", "row 14", "page 3 (OCR)"
    collection: str = ""  # the served collection it came from (`rag serve`); "" for one index
    # Holds a sentence addressed to an AI or telling the reader to act (possible prompt
    # injection): such sentences are never evidence, and the passage is flagged where shown.
    contains_instructions: bool = False
    rerank_score: float | None = None  # the cross-encoder's, when a reranker reordered the passages

    @property
    def place(self) -> str:
        """Its location or page, for people ("" for plain text)."""
        return place_label(self.page, self.location)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class Quote:
    """A verbatim span of a source document: document.text[start:end] == text."""

    document_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class Citation:
    """An [n] marker in an answer, pointing at a verified quote inside a retrieved passage."""

    number: int
    source: str
    title: str
    page: int | None
    quote: Quote
    passage_rank: int
    score: float
    location: str | None = None  # where the quote starts: "sheet Budget, row 3"; "(OCR)" marks OCR text
    collection: str = ""  # the served collection of the quoted passage (`rag serve`)
    # Share of the question's term weight (rarer terms weigh more) that the quoted passage holds.
    coverage: float | None = None

    @property
    def place(self) -> str:
        """Its location or page, for people ("" for plain text)."""
        return place_label(self.page, self.location)

    @property
    def start(self) -> int:
        """Start offset of the quote in its document."""
        return self.quote.start

    @property
    def end(self) -> int:
        """End offset of the quote in its document."""
        return self.quote.end

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with the flat fields scripts read."""
        return {
            "n": self.number,
            "collection": self.collection,
            "source": self.source,
            "title": self.title,
            "page": self.page,
            "location": self.location,
            "document_id": self.quote.document_id,
            "start": self.quote.start,
            "end": self.quote.end,
            "quote": self.quote.text,
            "passage_rank": self.passage_rank,
            "score": self.score,
            "coverage": self.coverage,
        }


@dataclass(frozen=True)
class SentenceSupport:
    """How well one answer sentence is supported by the retrieved passages."""

    text: str
    score: float
    is_supported: bool
    citation_numbers: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class Computation:
    """A number computed from quoted table rows: never a quote itself, always with its formula.

    operation: lookup, sum, average, count, max, min, difference, ratio, change (percent change
    from the first input to the second) or percent (how much the first is above the second, in
    percent); formula: the inputs as they read in their rows, each with its [n] marker, and the
    result; rounding: how the result was rounded ("" when it is exact).
    """

    operation: str
    column: str
    formula: str
    result: str
    table: str
    rounding: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class AnswerPart:
    """One ask of a compound question, answered on its own; its [n] numbers are the whole answer's."""

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...]
    query: str  # what it was searched with (an earlier part's answer may be in it)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "query": self.query,
            "citations": [citation.to_dict() for citation in self.citations],
        }


@dataclass(frozen=True)
class Answer:
    """An answer built from verbatim quotes, with the evidence it rests on.

    A compound question ("Who wrote it, and when?") is answered part by part: `parts` holds
    each ask with its own quotes, and the answer is answered when any part is.
    """

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    query: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    sentences: tuple[SentenceSupport, ...] = ()
    notice: str = ""
    # Set when the answer is a number computed from quoted table rows (mode "computed").
    computation: Computation | None = None
    id: str = ""  # one per question asked, the same on every partial answer: feedback names it
    parts: tuple[AnswerPart, ...] = ()  # a compound question's asks; () for a single question

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "mode": self.mode,
            "query": self.query,
            "citations": [citation.to_dict() for citation in self.citations],
            "passages": [passage.to_dict() for passage in self.passages],
            "sentences": [sentence.to_dict() for sentence in self.sentences],
            "timings_ms": dict(self.timings_ms),
            "notice": self.notice,
            "computation": self.computation.to_dict() if self.computation else None,
            "parts": [part.to_dict() for part in self.parts],
        }


@dataclass(frozen=True)
class PageGeometry:
    """Where the characters of one page sit on it: runs of stored offsets with their box.

    `runs` is flat, six integers a run: start and end offsets into the document text, then the
    box as left, top, right, bottom in 1/65535ths of the page's width and height, from its top
    left corner as it is displayed. Characters extraction inserted (spaces, line breaks between
    words it joined) are in no run.
    """

    page: int  # 1-based
    source: str  # "text layer" (the PDF's own characters) or "ocr" (tesseract's words)
    runs: tuple[int, ...]

    def moved(self, offset: int) -> PageGeometry:
        """The same boxes with their offsets moved by `offset` (page-relative to document offsets)."""
        runs = list(self.runs)
        for index in range(0, len(runs), 6):
            runs[index] += offset
            runs[index + 1] += offset
        return dataclasses.replace(self, runs=tuple(runs))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageGeometry:
        """The inverse of dataclasses.asdict, for geometry that crossed a process boundary as JSON."""
        return cls(int(data["page"]), str(data["source"]), tuple(int(value) for value in data["runs"]))


@dataclass(frozen=True)
class LoadedFile:
    """One file's stored text and what is known about it; offsets index into `text`."""

    source: str
    title: str
    text: str
    page_starts: tuple[int, ...]  # PDF, image and .pptx: offset in `text` where page/slide i + 1 starts
    file_type: str  # text markdown html pdf docx pptx xlsx csv tsv epub odt image
    warnings: tuple[str, ...]
    locations: tuple[Location, ...] = ()  # ascending by start
    metadata: dict[str, Any] = field(default_factory=dict)  # csv: columns, delimiter; OCR: languages...
    geometry: tuple[PageGeometry, ...] = ()  # PDFs and pictures: where each page's characters are

    def location_at(self, offset: int) -> str | None:
        """Return the label of the location holding the character offset, or None before the first."""
        return location_at(self.locations, offset)


@dataclass(frozen=True)
class FileResult:
    """What happened to one file during an ingest."""

    source: str
    status: str  # added | updated | unchanged | removed | failed | skipped
    chunks: int = 0
    reason: str = ""
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return _as_dict(self)


@dataclass(frozen=True)
class IngestReport:
    """Summary of an ingest: one FileResult per file seen, plus throughput."""

    files: tuple[FileResult, ...]
    chunks_embedded: int
    seconds: float

    def count(self, status: str) -> int:
        """Number of files with the given status."""
        return sum(1 for result in self.files if result.status == status)

    @property
    def failed(self) -> tuple[FileResult, ...]:
        """Files that could not be ingested."""
        return tuple(result for result in self.files if result.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        statuses = ("added", "updated", "unchanged", "removed", "failed", "skipped")
        return {
            "summary": {status: self.count(status) for status in statuses},
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3),
            "files": [result.to_dict() for result in self.files],
        }


@dataclass(frozen=True)
class TextSpan:
    """A span of a text before it is stored (a chunk, a sentence): text == source_text[start:end]."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TextItem:
    """A document given as text rather than as a file (BEIR corpora, API callers)."""

    source: str
    text: str
    title: str = ""
    metadata: dict[str, object] | None = None


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest is, for progress displays."""

    done: int
    total: int
    chunks: int
    seconds: float
    current: str


ProgressCallback = Callable[[IngestProgress], None]
# A long vector index build reports (vectors done, vectors in all, what it is doing).
BuildProgress = Callable[[int, int, str], None]
