"""The SQLite schema of an index, its format version, and the upgrade of older indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from rag.display import ProgressBar
from rag.errors import IndexMismatchError
from rag.language.analysis import index_text
from rag.language.detection import SAMPLE_CHARS, detect_language
from rag.language.structure import STRUCTURE_VERSION
from rag.storage import (
    audit,
    feedback_table,
    grants,
    page_boxes,
    question_log,
    sentence_vectors,
    structure_spans,
)

# 2: the locations table and chunks.search_text.
# 3: documents.language and .script; chunks.terms, what the full-text index holds (the search
# text analysed for the document's language: rag.language.analysis).
# 4: the feedback table (storage/feedback_table.py), empty in an upgraded index.
# 5: the page_boxes table (where a PDF's or a picture's characters sit on its pages), empty for
# the documents of an older index until they are ingested again (or `rag optimize`).
# 6: the question_log table (storage/question_log.py), empty in an upgraded index, and
# feedback.history (the conversation before a follow-up), empty for older feedback.
# Older indexes are upgraded in place, one step per version; nothing is embedded again.
FORMAT_VERSION = 6
# The upgrade to 3 detects the language of every document (about 700 a second on two busy
# cores) and analyses every chunk (about 5,000 a second): it reads a batch at a time, and
# shows progress bars where they take more than a few seconds.
ANALYSE_BATCH = 2000
UPGRADE_PROGRESS_FROM = 2000
T = TypeVar("T")

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
    added_at TEXT NOT NULL DEFAULT (datetime('now')),
    language TEXT NOT NULL DEFAULT 'und',
    script TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS documents_id ON documents(id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    search_text TEXT,
    terms TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_key);
CREATE TABLE IF NOT EXISTS locations (
    document_key INTEGER NOT NULL REFERENCES documents(key) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (document_key, start)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='ascii'
);
CREATE TABLE IF NOT EXISTS vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, row);
"""
# vector_changes journals every chunk whose vector went or was replaced, in the transaction that
# did it; with chunk ids only ever growing, (last chunk id, last change seq) is all a FAISS
# index needs to catch up with SQLite in O(change). Nothing else reads it; an index made before
# it existed simply starts its journal when first opened for writing.
# search_text is what a chunk is found by when it differs from its text (the rows of a .csv
# with their column headers); terms is that, analysed, and the ascii tokenizer only splits it at
# spaces. FTS indexes terms through these triggers, so never 'rebuild' chunks_fts from its
# content table (its column is named text, but holds terms).
_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.terms);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.terms);
END;
CREATE TRIGGER IF NOT EXISTS chunks_vector_gone AFTER DELETE ON chunks BEGIN
    INSERT INTO vector_changes(chunk_id) VALUES (old.id);
END;
CREATE TRIGGER IF NOT EXISTS chunks_vector_replaced AFTER UPDATE OF vector ON chunks BEGIN
    INSERT INTO vector_changes(chunk_id) VALUES (old.id);
END;
"""
# Every search asks which languages the index holds: this index answers that without reading
# the rows, whose full texts come before the language column (300 documents of 200 kB: 63 ms
# a call without it, 0.03 ms with it). Created after the upgrades, which add the column.
_LANGUAGE_INDEX = "CREATE INDEX IF NOT EXISTS documents_language ON documents(language);"
_UPGRADE_FROM_1 = """
ALTER TABLE chunks ADD COLUMN search_text TEXT;
DROP TRIGGER IF EXISTS chunks_fts_insert;
DROP TRIGGER IF EXISTS chunks_fts_delete;
"""


def create_or_upgrade(connection: sqlite3.Connection, folder: Path) -> None:
    """Create the tables of a new index, or bring an index of an older format version up to date."""
    connection.executescript(_TABLES + sentence_vectors.SCHEMA + feedback_table.SCHEMA)
    row = connection.execute("SELECT value FROM manifest WHERE key = 'format_version'").fetchone()
    if row is None:  # a new index (or one whose creation never finished): the current version's tables
        connection.executescript(page_boxes.SCHEMA + question_log.SCHEMA)
    if row is not None and row[0] == "1":
        _upgrade_from_version_1(connection, folder)
    if row is not None and row[0] in ("1", "2"):
        _upgrade_to_languages(connection, folder)
    if row is not None and row[0] in ("1", "2", "3"):
        _upgrade_to_feedback(connection, folder)
    if row is not None and row[0] in ("1", "2", "3", "4"):
        _upgrade_to_page_boxes(connection, folder)
    if row is not None and row[0] in ("1", "2", "3", "4", "5"):
        _upgrade_to_question_log(connection, folder)
    connection.executescript(_TRIGGERS + _LANGUAGE_INDEX)
    # An index made by a development build of format 6 before the column existed gains it too.
    feedback_table.add_history_column(connection)
    grants.add_grants_table(connection)  # issue 23: per-document read grants
    audit.add_audit_table(connection)  # issue 23: the append-only audit trail
    has_structure = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'structure_spans'"
    ).fetchone()
    connection.executescript(structure_spans.SCHEMA)
    found_by = connection.execute("SELECT value FROM manifest WHERE key = 'structure_version'").fetchone()
    # Only an older finder's spans are found again: a newer version's are left to that version.
    older = found_by is None or (found_by[0].isdigit() and int(found_by[0]) < STRUCTURE_VERSION)
    if not has_structure or older:
        _find_structure(connection, folder)


def _find_structure(connection: sqlite3.Connection, folder: Path) -> None:
    """Store the structure of every document again: the index was made before structure spans
    were, or by an older structure finder (STRUCTURE_VERSION). A new index just records it."""
    documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
    with _upgrading(connection, folder, FORMAT_VERSION):
        connection.execute("DELETE FROM structure_spans")
        # One document's text in memory at a time: documents can be large.
        keys = [row[0] for row in connection.execute("SELECT key FROM documents")]
        note = f"finding the structure of the documents in {folder}"
        for key in _shown(iter(keys), documents, "documents", note):
            structure_spans.insert_stored(connection, key)
        connection.execute(
            "INSERT OR REPLACE INTO manifest (key, value) VALUES ('structure_version', ?)",
            (str(STRUCTURE_VERSION),),
        )


def _upgrade_from_version_1(connection: sqlite3.Connection, folder: Path) -> None:
    """Add what version 2 stores; the documents and chunks of version 1 need nothing else."""
    with _upgrading(connection, folder, 2):
        if "search_text" not in {row[1] for row in connection.execute("PRAGMA table_info(chunks)")}:
            for statement in filter(str.strip, _UPGRADE_FROM_1.split(";")):
                connection.execute(statement)


def _upgrade_to_page_boxes(connection: sqlite3.Connection, folder: Path) -> None:
    """Version 5 adds the page_boxes table, empty: old documents have no page geometry until ingested again."""
    with _upgrading(connection, folder, 5):
        for statement in filter(str.strip, page_boxes.SCHEMA.split(";")):
            connection.execute(statement)


def _upgrade_to_question_log(connection: sqlite3.Connection, folder: Path) -> None:
    """Version 6 adds the question_log table, empty (questions asked before were not logged), and
    the feedback table's history column."""
    with _upgrading(connection, folder, 6):
        feedback_table.add_history_column(connection)
        for statement in filter(str.strip, question_log.SCHEMA.split(";")):
            connection.execute(statement)


def _upgrade_to_languages(connection: sqlite3.Connection, folder: Path) -> None:
    """Detect each document's language and rebuild the full-text index from analysed terms."""
    with _upgrading(connection, folder, 3):
        for table, column, kind in (
            ("documents", "language", "TEXT NOT NULL DEFAULT 'und'"),
            ("documents", "script", "TEXT NOT NULL DEFAULT ''"),
            ("chunks", "terms", "TEXT NOT NULL DEFAULT ''"),
        ):
            if column not in {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        note = f"upgrading {folder} to format {FORMAT_VERSION}"
        documents, chunks = connection.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)"
        ).fetchone()
        connection.executemany(
            "UPDATE documents SET language = ?, script = ? WHERE key = ?",
            _shown(_detected_languages(connection), documents, "documents", note),
        )
        connection.executemany(
            "UPDATE chunks SET terms = ? WHERE id = ?",
            _shown(analysed_terms(connection), chunks, "chunks", note),
        )
        for statement in filter(str.strip, _REPLACE_FULL_TEXT.split(";")):
            connection.execute(statement)
        connection.execute(f"INSERT INTO chunks_fts(rowid, text) SELECT id, {FTS_TEXT} FROM chunks")


def _upgrade_to_feedback(connection: sqlite3.Connection, folder: Path) -> None:
    """Version 4 adds the feedback table (made above, empty); nothing stored before changes."""
    with _upgrading(connection, folder, 4):
        for statement in filter(str.strip, feedback_table.SCHEMA.split(";")):
            connection.execute(statement)


def _detected_languages(connection: sqlite3.Connection) -> Iterator[tuple[str, str, int]]:
    """(language, script, document key) of every document, from the sample detection reads."""
    for key, sample in _batches(
        connection,
        "SELECT key, substr(text, 1, ?) FROM documents WHERE key > ? ORDER BY key LIMIT ?",
        SAMPLE_CHARS,
    ):
        detected = detect_language(sample)
        yield detected.language, detected.script, key


def _shown(items: Iterator[T], total: int, unit: str, note: str) -> Iterator[T]:
    """The items, counted on a progress bar on the terminal when there are many."""
    if total < UPGRADE_PROGRESS_FROM:
        yield from items
        return
    bar = ProgressBar(unit, total=total)
    try:
        for done, item in enumerate(items, start=1):
            yield item
            if done % ANALYSE_BATCH == 0 or done == total:
                bar(done, total, note)
    finally:
        bar.close()


@contextmanager
def _upgrading(connection: sqlite3.Connection, folder: Path, version: int) -> Iterator[None]:
    """One upgrade step in one transaction that ends by recording the new format version."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("UPDATE manifest SET value = ? WHERE key = 'format_version'", (str(version),))
        connection.execute("COMMIT")
    except sqlite3.OperationalError as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise IndexMismatchError(
            f"index {folder} could not be upgraded to format version {version}"
            f" ({error}): open it once with write access, or rebuild it"
        ) from error


def analysed_terms(connection: sqlite3.Connection) -> Iterator[tuple[str, int]]:
    """(terms, chunk id) of every chunk, analysed afresh from its search text and language."""
    for chunk, found, language in _batches(
        connection,
        "SELECT c.id, coalesce(c.search_text, c.text), d.language"
        " FROM chunks c JOIN documents d ON d.key = c.document_key"
        " WHERE c.id > ? ORDER BY c.id LIMIT ?",
    ):
        yield index_text(found, language), chunk


def _batches(connection: sqlite3.Connection, query: str, *parameters: object) -> Iterator[tuple]:
    """The rows of a query paged by its first column (key > ? ... LIMIT ?), one batch in memory.

    Each batch is read whole before its rows are used, so the caller may write to the same
    tables while it iterates.
    """
    last = -1
    while True:
        rows = connection.execute(query, (*parameters, last, ANALYSE_BATCH)).fetchall()
        yield from rows
        if len(rows) < ANALYSE_BATCH:
            return
        last = rows[-1][0]


_REPLACE_FULL_TEXT = """
DROP TRIGGER IF EXISTS chunks_fts_insert;
DROP TRIGGER IF EXISTS chunks_fts_delete;
DROP TABLE IF EXISTS chunks_vocab;
DROP TABLE IF EXISTS chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id', tokenize='ascii');
CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, row)
"""
# What the full-text index holds for a chunk, and how it splits words (as in _TABLES, _TRIGGERS).
FTS_TEXT = "terms"
FTS_TOKENIZER = "ascii"
# A folder's database is ours when it has these tables; anything else belongs to another program.
OWN_TABLES = frozenset({"manifest", "documents", "chunks", "chunks_fts"})
