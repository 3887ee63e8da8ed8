"""Searching a PostgreSQL index: BM25 over the postings table, with SQLite FTS5's formula and
constants (so both engines rank alike), and the nearest chunk vectors through pgvector (its HNSW
index when the index keeps one, exactly otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.storage.database.writing import fts_tokens
from rag.storage.scope import Scope

# SQLite FTS5's bm25() constants, so both engines give a chunk the same lexical score.
BM25_K1 = 1.2
BM25_B = 0.75
# pgvector's HNSW search keeps this many candidates at least (its default is 40).
MIN_EF_SEARCH = 100
# A reader's scope: searched exactly up to this many chunks, or when HNSW would need more than
# MAX_EF_SEARCH candidates to keep enough of the scope's (scoped_search).
EXACT_SCOPE_CHUNKS = 20_000
MAX_EF_SEARCH = 1000


# BM25 as FTS5 computes it: idf = ln((N - n + 0.5) / (n + 0.5)), at least 1e-6, and a chunk's
# length is its count of terms, over the average of all chunks. The totals come from one narrow
# row per document and each posting carries its chunk's length: a query reads the postings of its
# terms once, from the index that holds them (not the wide chunk rows, nor a row per chunk).
_LEXICAL_SEARCH = """
WITH postings AS MATERIALIZED (
    SELECT term, chunk_id, frequency, length FROM chunk_terms WHERE term = ANY(%(terms)s::text[])
),
hits AS (SELECT term, count(*)::float8 AS hits FROM postings GROUP BY term),
totals AS (
    SELECT coalesce(sum(chunks), 0)::float8 AS rows,
        greatest(coalesce(sum(terms)::float8 / nullif(sum(chunks), 0), 0), 1e-9) AS average
    FROM document_terms
)
SELECT p.chunk_id, sum(
    greatest(ln((t.rows - h.hits + 0.5) / (h.hits + 0.5)), 1e-6) * p.frequency * (%(k1)s + 1)
    / (p.frequency + %(k1)s * (1 - %(b)s + %(b)s * p.length / t.average))
) AS score
FROM postings p JOIN hits h ON h.term = p.term CROSS JOIN totals t
GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(limit)s
"""

# The same, keeping only the chunks of a reader's scope (the totals stay the whole index's, as FTS5's).
_SCOPED_LEXICAL_SEARCH = _LEXICAL_SEARCH.replace(
    "CROSS JOIN totals t\n",
    "CROSS JOIN totals t JOIN chunks c ON c.id = p.chunk_id\nWHERE c.document_key = ANY(%(keys)s)\n",
)
assert _SCOPED_LEXICAL_SEARCH != _LEXICAL_SEARCH


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of a vector, sent as a bound parameter."""
    # Nine significant digits: every float32 reads back as itself (`rag copy` moves vectors exactly).
    return "[" + ",".join(f"{value:.9g}" for value in np.asarray(vector, dtype=np.float32)) + "]"


def lexical(
    connection: Any, terms: Sequence[str], limit: int, scope: Scope | None
) -> list[tuple[int, float]]:
    """(chunk id, BM25 score, higher is better) of the chunks (of the scope) holding any of the
    analysed terms; as in FTS5, N and the average length are the whole index's."""
    wanted = list(dict.fromkeys(token for term in terms for token in fts_tokens(term)))
    if not wanted:
        return []
    rows = connection.execute(
        _LEXICAL_SEARCH if scope is None else _SCOPED_LEXICAL_SEARCH,
        {"terms": wanted, "k1": BM25_K1, "b": BM25_B, "limit": limit}
        | ({} if scope is None else {"keys": sorted(scope.document_keys)}),
    )
    return [(int(row[0]), float(row[1])) for row in rows]


def nearest(
    connection: Any, query_vectors: np.ndarray, k: int, keys: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(cosines, chunk ids) of the k nearest chunks (of the documents with these keys) of each
    query, as the connection's settings search; -1 ids pad a short list."""
    scores = np.full((len(query_vectors), k), -np.inf, dtype=np.float32)
    row_ids = np.full((len(query_vectors), k), -1, dtype=np.int64)
    for row, vector in enumerate(query_vectors):
        literal = vector_literal(vector)
        if keys is None:
            found = connection.execute(
                "SELECT id, -(vector <#> %s::vector) FROM chunks ORDER BY vector <#> %s::vector LIMIT %s",
                (literal, literal, k),
            ).fetchall()
        else:
            found = connection.execute(
                "SELECT id, -(vector <#> %s::vector) FROM chunks WHERE document_key = ANY(%s)"
                " ORDER BY vector <#> %s::vector LIMIT %s",
                (literal, keys, literal, k),
            ).fetchall()
        for column, (chunk_id, score) in enumerate(found):
            row_ids[row, column], scores[row, column] = chunk_id, score
    return scores, row_ids


def scope_ef_search(chunks: int, share: float, k: int) -> int:
    """The HNSW candidates a scope of this many chunks (this share of the index's) is searched
    with, or 0: searched exactly (a narrow scope, or one HNSW would need too many candidates for)."""
    if chunks <= EXACT_SCOPE_CHUNKS or share * MAX_EF_SEARCH < 2 * max(MIN_EF_SEARCH, k):
        return 0
    return min(MAX_EF_SEARCH, int(max(MIN_EF_SEARCH, k) / share) + 1)


def scoped(
    connection: Any, query_vectors: np.ndarray, k: int, scope: Scope, index_chunks: Callable[[], int]
) -> tuple[np.ndarray, np.ndarray]:
    """nearest over the scope's chunks only, in an index of `index_chunks()` chunks (counted only
    for a scope wider than EXACT_SCOPE_CHUNKS: a count sums a row per document)."""
    # pgvector 0.6.2 filters HNSW's candidates after the index hands them over (it has no iterative
    # scan), so a filter keeping a small share of the chunks would leave fewer than k: a narrow scope
    # is searched exactly over its own chunks (found through chunks_document), a wide one through
    # HNSW with ef_search raised by one over the share, and exactly again when that still comes short.
    chunks = len(scope.chunk_ids)
    keys = sorted(scope.document_keys)
    ef_search = (
        0 if chunks <= EXACT_SCOPE_CHUNKS else scope_ef_search(chunks, chunks / max(index_chunks(), 1), k)
    )
    if not ef_search:
        return _filtered(connection, query_vectors, k, keys, 0)
    scores, row_ids = _filtered(connection, query_vectors, k, keys, ef_search)
    short = np.flatnonzero((row_ids == -1).any(axis=1)) if chunks >= k else np.array([], dtype=np.int64)
    if len(short):
        scores[short], row_ids[short] = _filtered(connection, query_vectors[short], k, keys, 0)
    return scores, row_ids


def _filtered(
    connection: Any, query_vectors: np.ndarray, k: int, keys: list[int], ef_search: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest chunks of these documents: through HNSW keeping ef_search candidates, or (0) exactly."""
    with connection.transaction():
        if ef_search:
            connection.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
        else:
            connection.execute("SET LOCAL enable_indexscan = off")  # so HNSW cannot be chosen
        return nearest(connection, query_vectors, k, keys)
