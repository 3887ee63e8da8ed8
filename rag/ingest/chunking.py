"""Split document text into overlapping chunks that keep exact character offsets."""

from __future__ import annotations

from rag.types import Document, TextSpan


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
    once rendered with their headers (a longer row is a chunk of its own); rows need no overlap."""
    rows = table.row_spans(0, len(table.text))
    chunks: list[TextSpan] = []
    first = 0
    size = 0
    for index, row in enumerate(rows):
        row_size = len(table.readable(row.start, row.end)) + 1
        if index > first and size + row_size > chunk_size:
            chunks.append(_joined(table.text, rows[first], rows[index - 1]))
            first, size = index, 0
        size += row_size
    if rows:
        chunks.append(_joined(table.text, rows[first], rows[-1]))
    return chunks


def _joined(text: str, first: TextSpan, last: TextSpan) -> TextSpan:
    return TextSpan(first.start, last.end, text[first.start : last.end])
