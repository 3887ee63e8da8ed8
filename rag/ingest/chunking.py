"""Split document text into overlapping chunks that keep exact character offsets."""

from __future__ import annotations

from rag.types import TextSpan


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
