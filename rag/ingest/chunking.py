"""Split document text into overlapping chunks that keep exact character offsets."""

from __future__ import annotations

from rag.types import Document, TextSpan

# Column headers make rows longer when rendered; past this many chunk sizes, the raw rows are used.
RENDERED_ROWS_FACTOR = 4


def split_text(text: str, chunk_size: int, chunk_overlap: int) -> list[TextSpan]:
    """Split text into chunks of at most chunk_size characters, each with its offsets."""
    # Imported here: `import rag` must stay light, and only ingest needs the splitter.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        strip_whitespace=True,
    )
    spans: list[TextSpan] = []
    search_from = 0
    for piece in splitter.split_text(text):
        start = text.find(piece, search_from)
        if start < 0:
            # The splitter only strips and joins, so a miss means overlap moved us too far.
            start = text.find(piece)
        if start < 0 or not piece.strip():
            continue
        spans.append(TextSpan(start, start + len(piece), piece))
        search_from = start + 1
    return spans


def split_rows(table: Document, chunk_size: int) -> list[TextSpan]:
    """Chunks of whole rows of a table document: as many rows as fit in chunk_size characters
    once rendered with their headers; rows need no overlap. A row longer than chunk_size on
    its own (a file of a million columns) is split like long text, so no chunk is ever longer."""
    chunks: list[TextSpan] = []
    group: list[TextSpan] = []
    size = 0
    for row in table.row_spans(0, len(table.text)):
        if len(row.text) > chunk_size:
            if group:
                chunks.append(_joined(table.text, group[0], group[-1]))
                group, size = [], 0
            chunks.extend(
                TextSpan(row.start + piece.start, row.start + piece.end, piece.text)
                for piece in split_text(row.text, chunk_size, 0)
            )
            continue
        row_size = len(table.readable(row.start, row.end)) + 1
        if group and size + row_size > chunk_size:
            chunks.append(_joined(table.text, group[0], group[-1]))
            group, size = [], 0
        group.append(row)
        size += row_size
    if group:
        chunks.append(_joined(table.text, group[0], group[-1]))
    return chunks


def row_search_text(table: Document, span: TextSpan, chunk_size: int) -> str:
    """What a table chunk is embedded and found by: its rows with their headers, or its own text
    for a piece of a long row (headers would be misplaced) or a rendering far past chunk_size."""
    rows = table.row_spans(span.start, span.end)
    if not rows or rows[0].start != span.start or rows[-1].end != span.end:
        return span.text
    readable = table.readable(span.start, span.end)
    return readable if len(readable) <= RENDERED_ROWS_FACTOR * chunk_size else span.text


def _joined(text: str, first: TextSpan, last: TextSpan) -> TextSpan:
    return TextSpan(first.start, last.end, text[first.start : last.end])
