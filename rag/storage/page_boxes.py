"""Where each stored character of a PDF page or OCR'd picture sits on its page, one blob a page.

A page's blob is its word runs (rag.pages.geometry.encode): stored offsets and a box each,
delta-coded and deflated. A document ingested before this table existed has no rows here: it
shows its pages without highlights until it is ingested again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from rag.pages.geometry import encode
from rag.types import PageGeometry

SCHEMA = """
CREATE TABLE IF NOT EXISTS page_boxes (
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    source TEXT NOT NULL,
    runs BLOB NOT NULL,
    PRIMARY KEY (document_key, page)
) WITHOUT ROWID;
"""


def insert(
    connection: sqlite3.Connection, document_key: int | None, geometry: Sequence[PageGeometry]
) -> None:
    """Store a document's page geometry (inside the caller's transaction)."""
    connection.executemany(
        "INSERT OR REPLACE INTO page_boxes (document_key, page, source, runs) VALUES (?, ?, ?, ?)",
        [(document_key, page.page, page.source, encode(page.runs)) for page in geometry],
    )


def load(connection: sqlite3.Connection, document_key: int, page: int) -> tuple[str, bytes] | None:
    """(source, blob) of one page's runs; None when the page has none (or the index predates them)."""
    try:
        row = connection.execute(
            "SELECT source, runs FROM page_boxes WHERE document_key = ? AND page = ?", (document_key, page)
        ).fetchone()
    except sqlite3.OperationalError:  # a read-only index made before the table existed
        return None
    return None if row is None else (str(row[0]), bytes(row[1]))


def has_any(connection: sqlite3.Connection, document_key: int) -> bool:
    """Whether the document was ingested with page geometry at all."""
    try:
        row = connection.execute(
            "SELECT 1 FROM page_boxes WHERE document_key = ? LIMIT 1", (document_key,)
        ).fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None
