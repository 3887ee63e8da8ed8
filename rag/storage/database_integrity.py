"""`rag check` of a PostgreSQL index: is every part whole and consistent, and rebuilding what is derived.

As in a folder (storage/integrity.py), a document's text is checked against its id, each chunk's
text against its document's text at its offsets, and each vector for unit length. What a folder
derives into FTS5 and FAISS is derived here into tables: each chunk's analysed terms, their
postings (chunk_terms), each document's totals (document_terms) and the HNSW index; a repair
builds them again from the chunks, and embeds again only chunks whose text or vector is damaged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.language.analysis import index_text
from rag.storage import bulk_load
from rag.storage.database import hnsw, journal, schema
from rag.storage.database.schema import FORMAT_VERSION
from rag.storage.database.searching import vector_literal
from rag.storage.database.writing import fts_tokens
from rag.storage.integrity import MAX_LISTED, NORM_TOLERANCE, IndexCheck
from rag.storage.postgres import PostgresStore
from rag.types import document_id

Embed = Callable[[Sequence[str]], np.ndarray]
MANIFEST_KEYS = ("format_version", "embedding_model", "dimension", "chunk_size", "chunk_overlap")
BATCH = 2000

_BAD_CHUNK_TEXT = """
SELECT c.id FROM chunks c JOIN documents d ON d.key = c.document_key
WHERE c.start < 0 OR c.start >= c."end" OR substr(d.text, c.start + 1, c."end" - c.start) IS DISTINCT FROM c.text
ORDER BY c.id
"""
_BAD_VECTORS = """
SELECT id FROM chunks WHERE abs(vector_norm(vector) - 1) > %s AND vector_norm(vector) <> 0 ORDER BY id
"""
# Each chunk with what it is found by, its stored terms and length, and its postings.
_CHUNK_TERMS = """
SELECT c.id, coalesce(c.search_text, c.text), d.language, c.terms, c.length, p.terms, p.frequencies, p.lengths
FROM chunks c JOIN documents d ON d.key = c.document_key
LEFT JOIN LATERAL (
    SELECT array_agg(term) AS terms, array_agg(frequency) AS frequencies, array_agg(DISTINCT length) AS lengths
    FROM chunk_terms WHERE chunk_id = c.id
) p ON true
WHERE c.id > %s ORDER BY c.id LIMIT %s
"""
_WRONG_TOTALS = """
SELECT count(*) FROM documents d
LEFT JOIN document_terms t ON t.document_key = d.key
LEFT JOIN (SELECT document_key, count(*) AS chunks, sum(length) AS terms FROM chunks GROUP BY document_key) c
    ON c.document_key = d.key
WHERE t.chunks IS DISTINCT FROM coalesce(c.chunks, 0) OR t.terms IS DISTINCT FROM coalesce(c.terms, 0)
"""
_TOTALS_AGAIN = """
INSERT INTO document_terms (document_key, chunks, terms)
SELECT d.key, count(c.id), coalesce(sum(c.length), 0) FROM documents d
LEFT JOIN chunks c ON c.document_key = d.key GROUP BY d.key
ON CONFLICT (document_key) DO UPDATE SET chunks = EXCLUDED.chunks, terms = EXCLUDED.terms
"""


@dataclass
class _Findings:
    manifest: list[str] = field(default_factory=list)
    damaged_documents: list[str] = field(default_factory=list)
    bad_chunk_text: list[int] = field(default_factory=list)
    bad_vectors: list[int] = field(default_factory=list)
    bad_terms: list[int] = field(default_factory=list)  # analysed terms or postings differ
    wrong_totals: int = 0
    vector_index: str = ""  # what is wrong with the HNSW index, if anything
    journal: str = ""  # what is wrong with format 3's change journal, if anything
    journal_floor: str = ""  # format 4's: its numbers below its pruned floor


def check_database(store: PostgresStore, repair: bool = False, embed: Embed | None = None) -> IndexCheck:
    """Check a PostgreSQL index; with repair, upgrade an older format in place and rebuild what is
    derived (re-embedding needs embed)."""
    found = store.format_version()
    result = store.with_connection(lambda connection: _check(connection, store.location, repair, embed))
    if 0 < found < FORMAT_VERSION:
        result.problems.insert(
            0,
            f"format version {found}: readable, but grants, the audit trail and page positions need 2,"
            f" a reader's own FAISS index (RAG_POSTGRES_VECTORS=faiss) 3, pruning its change journal"
            f" (rag optimize), a journalled TRUNCATE and a journal lock per schema {FORMAT_VERSION};"
            " `rag check --repair` upgrades it in place",
        )
        if repair:
            store.upgrade()
            result.repaired.insert(0, f"upgraded in place from format version {found} to {FORMAT_VERSION}")
    return result


def _check(connection: Any, location: str, repair: bool, embed: Embed | None) -> IndexCheck:
    result = IndexCheck(location)
    findings = _inspect(connection)
    result.problems.extend(_describe(findings))
    if repair and result.problems:
        _repair(connection, findings, result, embed)
    return result


def _inspect(connection: Any) -> _Findings:
    findings = _Findings()
    manifest = dict(connection.execute("SELECT key, value FROM manifest").fetchall())
    findings.manifest = [f"manifest: {key} is missing" for key in MANIFEST_KEYS if key not in manifest]
    version = manifest.get("format_version", str(FORMAT_VERSION))
    if not version.isdigit() or int(version) > FORMAT_VERSION:  # an older one: check_database
        findings.manifest.append(f"manifest: format_version {version!r} is not one this Verbatim reads")
    column = connection.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'vector'"
    ).fetchone()
    if "dimension" in manifest and column is not None and str(column[0]) != manifest["dimension"]:
        findings.manifest.append(
            f"manifest: dimension {manifest['dimension']!r}, but the vector column holds {column[0]} numbers"
        )
    with connection.transaction(), connection.cursor(name="documents") as cursor:
        cursor.execute("SELECT id, source, text FROM documents ORDER BY key")
        while rows := cursor.fetchmany(BATCH // 10):
            findings.damaged_documents += [
                source for identifier, source, text in rows if document_id(text) != identifier
            ]
    findings.bad_chunk_text = [int(row[0]) for row in connection.execute(_BAD_CHUNK_TEXT)]
    findings.bad_vectors = [int(row[0]) for row in connection.execute(_BAD_VECTORS, (NORM_TOLERANCE,))]
    findings.bad_terms = _bad_terms(connection)
    findings.wrong_totals = int(connection.execute(_WRONG_TOTALS).fetchone()[0])
    findings.vector_index = _vector_index_problem(connection)
    if version.isdigit() and int(version) >= schema.JOURNAL_FORMAT:
        findings.journal = _journal_problem(connection, int(version))
    if version.isdigit() and int(version) >= schema.PRUNED_FORMAT:
        findings.journal_floor = journal.floor_problem(connection)
    return findings


def _journal_problem(connection: Any, version: int) -> str:
    triggers = dict(
        connection.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'chunks'::regclass"
            " AND tgname IN ('vector_journal_append', 'vector_journal_reset')"
        ).fetchall()
    )
    needed = ["vector_journal_append"] + (["vector_journal_reset"] if version >= schema.PRUNED_FORMAT else [])
    if any(triggers.get(name, "D") == "D" for name in needed):
        return (
            "a trigger that journals vector changes (of rows, or a TRUNCATE) is missing or disabled:"
            " readers following the journal miss changes (--repair makes it again; restart those readers)"
        )
    dated = connection.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'vector_journal'::regclass AND attname = 'written_at'"
        " AND NOT attisdropped"
    ).fetchone()
    if version >= schema.PRUNED_FORMAT and dated is None:
        return (
            "the change journal has no written_at column: `rag optimize` cannot prune it (--repair adds it)"
        )
    return ""


def _bad_terms(connection: Any) -> list[int]:
    """Chunks whose stored terms are not their search text analysed afresh, or whose postings are not
    the tokens of their terms."""
    bad, last = [], 0
    while rows := connection.execute(_CHUNK_TERMS, (last, BATCH)).fetchall():
        for chunk, found, language, terms, length, posted, frequencies, lengths in rows:
            tokens = fts_tokens(terms)
            expected = Counter(tokens)
            postings = dict(zip(posted or (), frequencies or (), strict=True))
            if (
                index_text(found, language) != terms
                or length != len(tokens)
                or postings != expected
                or (expected and list(lengths or ()) != [len(tokens)])
            ):
                bad.append(int(chunk))
        last = int(rows[-1][0])
    return bad


def _vector_index_problem(connection: Any) -> str:
    row = connection.execute(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('chunks_vector')"
    ).fetchone()
    loading = bulk_load.unfinished(connection)
    if loading:
        return (
            f"the HNSW index of the chunk vectors is left for the end of a load ({loading}) that is"
            " running or did not finish: finish it (`rag copy --resume`), or build the index with --repair"
        )
    if not hnsw.has_hnsw(connection):
        return ""  # kept for readers' FAISS indexes: no HNSW index is expected
    if row is None:
        return "the HNSW index of the chunk vectors is missing"
    return "" if row[0] else "the HNSW index of the chunk vectors is not valid (an interrupted build?)"


def _describe(findings: _Findings) -> list[str]:
    problems = list(findings.manifest)
    problems += [
        f"document {source}: its text does not match its id (damaged)"
        for source in findings.damaged_documents[:MAX_LISTED]
    ]
    problems += _counted(
        "chunk {}: its text is not the document's text at its offsets", findings.bad_chunk_text
    )
    problems += _counted("chunk {}: its vector is not a unit vector (damaged)", findings.bad_vectors)
    problems += _counted(
        "chunk {}: its analysed terms or their postings differ from its text", findings.bad_terms
    )
    if findings.wrong_totals:
        problems.append(f"term totals: {findings.wrong_totals} documents' chunk and term counts are wrong")
    problems += [
        problem for problem in (findings.vector_index, findings.journal, findings.journal_floor) if problem
    ]
    return problems


def _counted(template: str, items: Sequence[int]) -> list[str]:
    lines = [template.format(item) for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"... and {len(items) - MAX_LISTED} more like it")
    return lines


def _repair(connection: Any, findings: _Findings, result: IndexCheck, embed: Embed | None) -> None:
    if findings.manifest:
        result.unrepaired.append(
            "the manifest is damaged: restore the database from a backup, or ingest again"
        )
        return
    for source in findings.damaged_documents:
        result.unrepaired.append(f"document {source}: remove it and ingest its file again")
    damaged = sorted(set(findings.bad_chunk_text) | set(findings.bad_vectors))
    if damaged and embed is None:
        result.unrepaired.append(
            f"{len(damaged)} chunks need new vectors: run the check with the index's model"
        )
        damaged = []
    with connection.transaction():
        if damaged:
            _embed_again(connection, damaged, embed)
            result.repaired.append(f"{len(damaged)} chunks given their document's text and a new vector")
        again = sorted(set(findings.bad_terms) | set(damaged))
        if again:
            _terms_again(connection, again)
            result.repaired.append(f"analysed terms and postings of {len(again)} chunks built again")
        if again or findings.wrong_totals:
            connection.execute(_TOTALS_AGAIN)
            result.repaired.append("term totals counted again")
        if findings.vector_index:
            connection.execute("DROP INDEX IF EXISTS chunks_vector")
            bulk_load.build_vector_index(connection, None, None)
            connection.execute("DELETE FROM manifest WHERE key = %s", (bulk_load.MARKER,))
            result.repaired.append("the HNSW index built again")
        if findings.journal_floor:
            journal.number_past_floor(connection)
            result.repaired.append("the change journal numbered on past its pruned floor, with a reset")
        if findings.journal:
            found = schema.format_in(connection)
            for version in range(schema.JOURNAL_FORMAT, found + 1):
                connection.execute(schema.STEPS[version])
            result.repaired.append(
                "the trigger that journals vector changes made again"
                + (", with the TRUNCATE trigger and written_at" if found >= schema.PRUNED_FORMAT else "")
            )
        connection.execute("SELECT nextval('generation')")


def _embed_again(connection: Any, chunks: Sequence[int], embed: Embed | None) -> None:
    assert embed is not None
    rows = connection.execute(
        'SELECT c.id, substr(d.text, c.start + 1, c."end" - c.start) FROM chunks c'
        " JOIN documents d ON d.key = c.document_key WHERE c.id = ANY(%s) ORDER BY c.id",
        (list(chunks),),
    ).fetchall()
    vectors = np.ascontiguousarray(embed([text for _, text in rows]), dtype=np.float32)
    connection.cursor().executemany(
        "UPDATE chunks SET text = %s, vector = %s::vector WHERE id = %s",
        [(text, vector_literal(vector), chunk) for (chunk, text), vector in zip(rows, vectors, strict=True)],
    )


def _terms_again(connection: Any, chunks: Sequence[int]) -> None:
    rows = connection.execute(
        "SELECT c.id, coalesce(c.search_text, c.text), d.language FROM chunks c"
        " JOIN documents d ON d.key = c.document_key WHERE c.id = ANY(%s)",
        (list(chunks),),
    ).fetchall()
    connection.execute("DELETE FROM chunk_terms WHERE chunk_id = ANY(%s)", (list(chunks),))
    cursor = connection.cursor()
    for chunk, found, language in rows:
        terms = index_text(found, language)
        tokens = fts_tokens(terms)
        cursor.execute("UPDATE chunks SET terms = %s, length = %s WHERE id = %s", (terms, len(tokens), chunk))
        cursor.executemany(
            "INSERT INTO chunk_terms (term, chunk_id, frequency, length) VALUES (%s, %s, %s, %s)",
            [(term, chunk, frequency, len(tokens)) for term, frequency in Counter(tokens).items()],
        )
