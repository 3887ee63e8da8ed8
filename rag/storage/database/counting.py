"""What a PostgreSQL index holds, counted: documents and chunks, languages, the chunks each search
term is in, and the bytes its tables take (`rag stats`, and the numbers BM25 and scoping need)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.storage.records import DISTINCT_LANGUAGES
from rag.storage.scope import Scope


def counts(connection: Any) -> tuple[int, int]:
    """Number of documents and of chunks, from each document's one narrow row of totals."""
    row = connection.execute("SELECT count(*), coalesce(sum(chunks), 0) FROM document_terms").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def has_chunks(connection: Any) -> bool:
    """Whether any chunk is stored."""
    return connection.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None


def language_counts(connection: Any) -> dict[str, int]:
    """How many documents each detected language has, most first."""
    rows = connection.execute(
        "SELECT language, count(*) FROM documents GROUP BY language ORDER BY count(*) DESC, language"
    )
    return {row[0]: int(row[1]) for row in rows}


def languages(connection: Any) -> list[str]:
    """The distinct languages of the stored documents, in code order."""
    return [row[0] for row in connection.execute(DISTINCT_LANGUAGES)]


def term_document_counts(connection: Any, terms: Sequence[str], scope: Scope | None) -> dict[str, int]:
    """How many chunks (of the scope) hold each of the given terms (absent terms are left out)."""
    if scope is None:
        rows = connection.execute(
            "SELECT term, count(*) FROM chunk_terms WHERE term = ANY(%s) GROUP BY term",
            (list(dict.fromkeys(terms)),),
        )
    else:
        rows = connection.execute(
            "SELECT t.term, count(*) FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id"
            " WHERE t.term = ANY(%s) AND c.document_key = ANY(%s) GROUP BY t.term",
            (list(dict.fromkeys(terms)), sorted(scope.document_keys)),
        )
    return {row[0]: int(row[1]) for row in rows}


def size_bytes(connection: Any) -> int:
    """Bytes the index's tables take, with their indexes and out-of-line values."""
    row = connection.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    ).fetchone()
    return int(row[0]) if row else 0
