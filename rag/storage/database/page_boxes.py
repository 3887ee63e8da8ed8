"""Where each stored character of a PDF page or OCR'd picture sits, in a PostgreSQL index (format 2):
the folder's page_boxes table (rag/storage/page_boxes.py), one encoded blob of word runs a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.errors import NotFoundError
from rag.pages.geometry import encode
from rag.storage.records import PagedFile
from rag.types import PageGeometry


def rows_of(document_key: int, geometry: Sequence[PageGeometry]) -> list[tuple[int, int, str, bytes]]:
    """The page_boxes rows of a document's page geometry."""
    return [(document_key, page.page, page.source, encode(page.runs)) for page in geometry]


def insert(cursor: Any, rows: Sequence[tuple[int, int, str, bytes]]) -> None:
    """Store page rows (document key, page, source, runs), replacing those of the same pages."""
    cursor.executemany(
        "INSERT INTO page_boxes (document_key, page, source, runs) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (document_key, page) DO UPDATE SET source = EXCLUDED.source, runs = EXCLUDED.runs",
        rows,
    )


def load(connection: Any, document_key: int, page: int) -> bytes | None:
    """The blob of one page's runs; None when the page has none."""
    row = connection.execute(
        "SELECT runs FROM page_boxes WHERE document_key = %s AND page = %s", (document_key, page)
    ).fetchone()
    return None if row is None else bytes(row[0])


def has_any(connection: Any, document_key: int) -> bool:
    """Whether the document was stored with page geometry at all."""
    found = connection.execute("SELECT 1 FROM page_boxes WHERE document_key = %s LIMIT 1", (document_key,))
    return found.fetchone() is not None


def exported(connection: Any, document_key: int) -> tuple[tuple[int, str, bytes], ...]:
    """(page, source, runs) of every page of a document, as `rag copy` carries them."""
    rows = connection.execute(
        "SELECT page, source, runs FROM page_boxes WHERE document_key = %s ORDER BY page", (document_key,)
    )
    return tuple((int(page), str(source), bytes(runs)) for page, source, runs in rows)


def without_boxes(connection: Any) -> list[str]:
    """Sources of the PDFs and pictures with no page positions, oldest first."""
    rows = connection.execute(
        "SELECT source FROM documents d WHERE d.metadata ->> 'type' IN ('pdf', 'image')"
        " AND NOT EXISTS (SELECT 1 FROM page_boxes p WHERE p.document_key = d.key) ORDER BY d.key"
    )
    return [str(row[0]) for row in rows]


def paged_file(connection: Any, document_id: str, keeps_boxes: bool) -> PagedFile:
    """Where the document with this id (or source) came from; its pages have boxes only if `keeps_boxes`."""
    row = connection.execute(
        "SELECT key, id, source, content_hash, metadata ->> 'type', jsonb_array_length(page_starts)"
        " FROM documents WHERE id = %s OR source = %s LIMIT 1",
        (document_id, document_id),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no document {document_id!r} in the index")
    has_geometry = keeps_boxes and has_any(connection, int(row[0]))
    return PagedFile(int(row[0]), row[1], row[2], row[3], row[4] or "", int(row[5]), has_geometry)


def add(connection: Any, source: str, text: str, geometry: Sequence[PageGeometry]) -> bool:
    """Store a document's page positions in one transaction if its stored text is `text`; else False."""
    # The text is compared under the row's lock: another file's positions never land.
    with connection.transaction():
        row = connection.execute(
            "SELECT key, text FROM documents WHERE source = %s FOR UPDATE", (source,)
        ).fetchone()
        if row is None or row[1] != text:
            return False
        insert(connection.cursor(), rows_of(int(row[0]), geometry))
    return True
