"""The SQLite schema of an index, its format version, and the upgrade of older indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.errors import IndexMismatchError
from rag.storage import sentence_vectors

# 2: the locations table and chunks.search_text; an index of version 1 is upgraded in place.
FORMAT_VERSION = 2

_TABLES = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    source TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    page_starts TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    added_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS documents_id ON documents(id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    search_text TEXT
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_key);
CREATE TABLE IF NOT EXISTS locations (
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (document_key, start)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE TABLE IF NOT EXISTS vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
"""
# vector_changes journals every chunk whose vector went or was replaced, in the transaction that
# did it; with chunk ids only ever growing, (last chunk id, last change seq) is all a FAISS
# index needs to catch up with SQLite in O(change). Nothing else reads it; an index made before
# it existed simply starts its journal when first opened for writing.
# search_text is what a chunk is found by when it differs from its text (the rows of a .csv
# with their column headers); FTS indexes it through these triggers, so never 'rebuild' chunks_fts
# from its content table.
_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, coalesce(new.search_text, new.text));
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text)
    VALUES ('delete', old.id, coalesce(old.search_text, old.text));
END;
CREATE TRIGGER IF NOT EXISTS chunks_vector_gone AFTER DELETE ON chunks BEGIN
    INSERT INTO vector_changes(chunk_id) VALUES (old.id);
END;
CREATE TRIGGER IF NOT EXISTS chunks_vector_replaced AFTER UPDATE OF vector ON chunks BEGIN
    INSERT INTO vector_changes(chunk_id) VALUES (old.id);
END;
"""
_UPGRADE_FROM_1 = """
ALTER TABLE chunks ADD COLUMN search_text TEXT;
DROP TRIGGER IF EXISTS chunks_fts_insert;
DROP TRIGGER IF EXISTS chunks_fts_delete;
"""


def create_or_upgrade(connection: sqlite3.Connection, folder: Path) -> None:
    """Create the tables of a new index, or bring an index of format version 1 up to date."""
    connection.executescript(_TABLES + sentence_vectors.SCHEMA)
    row = connection.execute("SELECT value FROM manifest WHERE key = 'format_version'").fetchone()
    if row is not None and row[0] == "1":
        _upgrade_from_version_1(connection, folder)
    connection.executescript(_TRIGGERS)


def _upgrade_from_version_1(connection: sqlite3.Connection, folder: Path) -> None:
    """Add what version 2 stores; the documents and chunks of version 1 need nothing else."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        if "search_text" not in {row[1] for row in connection.execute("PRAGMA table_info(chunks)")}:
            for statement in filter(str.strip, _UPGRADE_FROM_1.split(";")):
                connection.execute(statement)
        connection.execute(
            "UPDATE manifest SET value = ? WHERE key = 'format_version'", (str(FORMAT_VERSION),)
        )
        connection.execute("COMMIT")
    except sqlite3.OperationalError as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise IndexMismatchError(
            f"index {folder} has format version 1 and could not be upgraded to {FORMAT_VERSION}"
            f" ({error}): open it once with write access, or rebuild it"
        ) from error


# What the full-text index holds for a chunk, and how it splits words (as in _TABLES, _TRIGGERS).
FTS_TEXT = "coalesce(search_text, text)"
FTS_TOKENIZER = "porter unicode61"
# A folder's database is ours when it has these tables; anything else belongs to another program.
OWN_TABLES = frozenset({"manifest", "documents", "chunks", "chunks_fts"})
