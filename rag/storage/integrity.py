"""`rag check`: is every part of an index whole and consistent, and rebuilding what is derived.

SQLite is the truth, but not all of it is primary: the full-text index and vectors.faiss are
derived from the chunks, a chunk's text from its document's text, and a chunk's vector from
its text. A document's own text is checked against its id (the sha256 of the text).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.storage.schema import FTS_TEXT, FTS_TOKENIZER, OWN_TABLES, analysed_terms
from rag.storage.sqlite_errors import DATABASE_NAME
from rag.storage.store import FORMAT_VERSION, Store
from rag.storage.vectors.journal import VectorMark, follows
from rag.storage.vectors.saved import VECTORS_NAME, is_previous_save, read_checked, read_meta
from rag.types import document_id

MANIFEST_KEYS = (
    "format_version",
    "embedding_model",
    "dimension",
    "chunk_size",
    "chunk_overlap",
    "generation",
)
NORM_TOLERANCE = 1e-3
MAX_LISTED = 20  # problems of one kind listed one by one; the rest are counted

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass
class IndexCheck:
    """What `rag check` found: problems, and with repair what was fixed and what could not be."""

    folder: str
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)

    @property
    def is_healthy(self) -> bool:
        """True when nothing is wrong (any more, after a repair)."""
        return not self.problems or (bool(self.repaired) and not self.unrepaired)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {**self.__dict__, "healthy": self.is_healthy}


@dataclass
class _Findings:
    """Problems by kind, with what a repair needs to know."""

    damaged_database: list[str] = field(default_factory=list)
    damaged_documents: list[str] = field(default_factory=list)
    bad_chunk_text: list[int] = field(default_factory=list)
    bad_vectors: list[int] = field(default_factory=list)
    fts: list[str] = field(default_factory=list)
    vector_file: list[str] = field(default_factory=list)
    manifest: list[str] = field(default_factory=list)


def check_index(folder: Path, repair: bool = False, embed: Embed | None = None) -> IndexCheck:
    """Check an index folder; with repair, rebuild derived data (re-embedding needs embed)."""
    result = IndexCheck(str(folder))
    database = folder / DATABASE_NAME
    if not Store.exists_in(folder):
        result.problems.append(f"no index at {folder} ({DATABASE_NAME} is missing)")
        return result
    try:
        findings = _inspect(database)
    except sqlite3.DatabaseError as error:
        result.problems.append(f"{DATABASE_NAME}: cannot be read ({error})")
        result.unrepaired.append(
            f"{DATABASE_NAME}: restore it from a backup, or ingest again into a new folder"
        )
        return result
    result.problems.extend(_describe(findings))
    if repair and result.problems:
        _repair(database, findings, result, embed)
    return result


def _inspect(database: Path) -> _Findings:
    findings = _Findings()
    with closing(sqlite3.connect(f"{database.absolute().as_uri()}?mode=ro", uri=True)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if not tables >= OWN_TABLES:
            findings.damaged_database.append(f"{DATABASE_NAME} is not a Verbatim index")
            return findings
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check(100)")]
        if rows != ["ok"]:
            findings.damaged_database.extend(f"{DATABASE_NAME}: {row}" for row in rows)
        manifest = dict(connection.execute("SELECT key, value FROM manifest"))
        findings.manifest = _manifest_problems(manifest)
        dimension = _int(manifest.get("dimension"))
        _check_documents(connection, findings)
        findings.fts = _fts_problems(connection)
        if dimension:
            _check_vectors(connection, dimension, findings)
            findings.vector_file = _vector_file_problems(database.parent, connection, manifest, dimension)
    return findings


def _manifest_problems(manifest: dict[str, str]) -> list[str]:
    problems = [f"manifest: {key} is missing" for key in MANIFEST_KEYS if key not in manifest]
    if manifest.get("format_version", str(FORMAT_VERSION)) != str(FORMAT_VERSION):
        problems.append(f"manifest: format_version {manifest['format_version']!r} is not {FORMAT_VERSION}")
    for key in ("dimension", "chunk_size", "generation"):
        if key in manifest and _int(manifest[key]) is None:
            problems.append(f"manifest: {key} {manifest[key]!r} is not a number")
    return problems


def _check_documents(connection: sqlite3.Connection, findings: _Findings) -> None:
    documents = connection.execute("SELECT key, id, source, text FROM documents")
    for key, identifier, source, text in documents:
        if document_id(text) != identifier:
            findings.damaged_documents.append(source)
            continue
        spans = connection.execute("SELECT id, start, end, text FROM chunks WHERE document_key = ?", (key,))
        findings.bad_chunk_text.extend(
            chunk for chunk, start, end, chunk_text in spans if text[start:end] != chunk_text or start >= end
        )
    orphans = connection.execute(
        "SELECT count(*) FROM chunks WHERE document_key NOT IN (SELECT key FROM documents)"
    ).fetchone()[0]
    if orphans:
        findings.damaged_database.append(f"{orphans} chunks belong to no document")


def _check_vectors(connection: sqlite3.Connection, dimension: int, findings: _Findings) -> None:
    for chunk, blob in connection.execute("SELECT id, CAST(vector AS BLOB) FROM chunks"):
        if len(blob) != dimension * 4:
            findings.bad_vectors.append(chunk)
            continue
        vector = np.frombuffer(blob, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            norm = float(np.linalg.norm(vector)) if np.isfinite(vector).all() else float("nan")
        if not (abs(norm - 1.0) <= NORM_TOLERANCE or norm == 0.0):
            findings.bad_vectors.append(chunk)


def _vector_file_problems(
    folder: Path, connection: sqlite3.Connection, manifest: dict[str, str], dimension: int
) -> list[str]:
    """Damage only: a missing file is normal after a crash, as is the previous file a crash left
    mid-save, and one saved at an older generation is caught up from the journal of vector
    changes; either way it is rebuilt or followed on use."""
    meta = read_meta(folder)
    if not (folder / VECTORS_NAME).exists() or not meta:
        return []
    if read_checked(folder, meta) is None:
        if is_previous_save(folder, meta):
            return []  # a save interrupted before its last rename: stale, rebuilt on use
        return [f"{VECTORS_NAME}: its checksum does not match (damaged)"]
    if meta.get("dimension") != dimension:
        return [f"{VECTORS_NAME}: holds vectors of {meta.get('dimension')} numbers, not {dimension}"]
    saved_from = meta.get("lineage")
    try:
        mark = VectorMark(**meta["mark"])
    except (KeyError, TypeError):
        mark = None
    if isinstance(saved_from, dict) and mark is not None and not follows(connection, mark, saved_from):
        return [
            f"{VECTORS_NAME}: saved from another state of {DATABASE_NAME} (restored from a backup, copied or "
            "swapped?); --repair rebuilds it from the stored vectors"
        ]
    if meta.get("generation") != _int(manifest.get("generation")):
        return []
    count = connection.execute("SELECT count(*) FROM chunks").fetchone()[0]
    if meta.get("count") != count:
        return [f"{VECTORS_NAME}: holds {meta.get('count')} vectors for {count} chunks"]
    return []


def _fts_problems(connection: sqlite3.Connection) -> list[str]:
    """Compare the full-text index with one built afresh from what each chunk is found by.

    FTS5's own 'integrity-check' compares with chunks.text, but a chunk is indexed by its
    search_text when it has one (table rows with their headers), so the comparison is made
    here, term by term, against a scratch index in memory.
    """
    try:
        connection.execute("ATTACH DATABASE ':memory:' AS scratch")
        connection.execute(
            f"CREATE VIRTUAL TABLE scratch.expected USING fts5(text, tokenize='{FTS_TOKENIZER}')"
        )
        connection.executemany(
            "INSERT INTO scratch.expected(rowid, text) VALUES (?, ?)",
            [(chunk, terms) for terms, chunk in analysed_terms(connection)],
        )
        connection.execute(
            "CREATE VIRTUAL TABLE temp.expected_terms USING fts5vocab(scratch, expected, 'instance')"
        )
        connection.execute(
            "CREATE VIRTUAL TABLE temp.actual_terms USING fts5vocab(main, chunks_fts, 'instance')"
        )
        differing = connection.execute(
            "SELECT count(*) FROM (SELECT term, doc, offset FROM temp.expected_terms"
            " EXCEPT SELECT term, doc, offset FROM temp.actual_terms)"
        ).fetchone()[0]
        differing += connection.execute(
            "SELECT count(*) FROM (SELECT term, doc, offset FROM temp.actual_terms"
            " EXCEPT SELECT term, doc, offset FROM temp.expected_terms)"
        ).fetchone()[0]
    except sqlite3.DatabaseError as error:
        return [f"full-text index: cannot be read ({error})"]
    finally:
        for statement in ("DROP TABLE temp.expected_terms", "DROP TABLE temp.actual_terms", "DETACH scratch"):
            with suppress(sqlite3.Error):
                connection.execute(statement)
    return [f"full-text index: {differing} word positions differ from the chunks"] if differing else []


def _describe(findings: _Findings) -> Iterator[str]:
    yield from findings.damaged_database[:MAX_LISTED]
    yield from findings.manifest
    for source in findings.damaged_documents[:MAX_LISTED]:
        yield f"document {source}: its text does not match its id (damaged)"
    yield from _counted(
        "chunk {}: its text is not the document's text at its offsets", findings.bad_chunk_text
    )
    yield from _counted(
        "chunk {}: its vector is damaged (wrong length, not finite or not unit)", findings.bad_vectors
    )
    yield from findings.fts
    yield from findings.vector_file


def _counted(template: str, items: Sequence[int]) -> Iterator[str]:
    for item in items[:MAX_LISTED]:
        yield template.format(item)
    if len(items) > MAX_LISTED:
        yield f"... and {len(items) - MAX_LISTED} more like it"


def _repair(database: Path, findings: _Findings, result: IndexCheck, embed: Embed | None) -> None:
    folder = database.parent
    if findings.damaged_database or findings.manifest:
        result.unrepaired.append(
            f"{DATABASE_NAME}: the database itself is damaged; restore it from a backup, or ingest again"
            " into a new folder"
        )
        return
    for source in findings.damaged_documents:
        result.unrepaired.append(f"document {source}: remove it and ingest its file again")
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        chunks = sorted(set(findings.bad_chunk_text) | set(findings.bad_vectors))
        if chunks:
            _repair_chunks(connection, chunks, embed, result)
        if chunks or findings.fts:
            # Not FTS5's 'rebuild': it would index chunks.text, not what each chunk is found by.
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany("UPDATE chunks SET terms = ? WHERE id = ?", analysed_terms(connection))
            connection.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
            connection.execute(f"INSERT INTO chunks_fts(rowid, text) SELECT id, {FTS_TEXT} FROM chunks")
            connection.execute("COMMIT")
            result.repaired.append("full-text index rebuilt from the chunks")
        if chunks or findings.vector_file:
            # Bumping the generation makes every reader rebuild vectors.faiss from SQLite.
            connection.execute(
                "UPDATE manifest SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
            )
            (folder / VECTORS_NAME).unlink(missing_ok=True)
            result.repaired.append(f"{VECTORS_NAME} removed; it is rebuilt from the stored vectors")


def _repair_chunks(
    connection: sqlite3.Connection, chunks: Sequence[int], embed: Embed | None, result: IndexCheck
) -> None:
    """Take each chunk's text from its document again and re-embed it."""
    if embed is None:
        result.unrepaired.append(
            f"{len(chunks)} chunks need new vectors: run the check with the index's model"
        )
        return
    rows = []
    for chunk in chunks:
        document_text, start, end = connection.execute(
            "SELECT d.text, c.start, c.end FROM chunks c JOIN documents d ON d.key = c.document_key"
            " WHERE c.id = ?",
            (chunk,),
        ).fetchone()
        rows.append((chunk, document_text[start:end]))
    vectors = np.ascontiguousarray(embed([text for _, text in rows]), dtype=np.float32)
    connection.execute("BEGIN IMMEDIATE")
    for (chunk, text), vector in zip(rows, vectors, strict=True):
        connection.execute(
            "UPDATE chunks SET text = ?, vector = ? WHERE id = ?", (text, vector.tobytes(), chunk)
        )
    connection.execute("COMMIT")
    result.repaired.append(f"{len(rows)} chunks given their document's text and a new vector")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
