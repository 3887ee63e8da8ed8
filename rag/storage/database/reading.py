"""Reading a PostgreSQL index back: its documents (listed, or one whole with its locations and
structure spans), chunks and their vectors by id, every vector in batches, stored sentence vectors,
a fixed sample of chunk texts, and the chunks and languages of a reader's scope."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.errors import NotFoundError
from rag.storage.records import ChunkRecord, DocumentInfo
from rag.storage.scope import Scope
from rag.storage.sentence_vectors import text_hash
from rag.types import Chunk, Document, Location, StructureSpan


def content_hashes(connection: Any, sources: Sequence[str]) -> dict[str, str]:
    """Map of each of these sources that is stored to the hash of the content it came from."""
    rows = connection.execute(
        "SELECT source, content_hash FROM documents WHERE source = ANY(%s)", (list(sources),)
    )
    return dict(rows.fetchall())


def sources(connection: Any) -> list[str]:
    """All document sources, sorted."""
    return [row[0] for row in connection.execute("SELECT source FROM documents ORDER BY source")]


def documents(connection: Any, scope: Scope | None) -> list[DocumentInfo]:
    """All documents (of the scope) with sizes and chunk counts, sorted by source."""
    rows = connection.execute(
        "SELECT d.id, d.source, d.title, d.size_bytes, length(d.text), count(c.id),"
        " to_char(d.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), d.language, d.script"
        " FROM documents d LEFT JOIN chunks c ON c.document_key = d.key"
        " WHERE %(all)s OR d.key = ANY(%(keys)s) GROUP BY d.key ORDER BY d.source",
        # A scope bound as `%(all)s OR key = ANY(%(keys)s)`: one statement with or without one.
        {"all": scope is None, "keys": [] if scope is None else sorted(scope.document_keys)},
    )
    return [DocumentInfo(*row) for row in rows]


def document(connection: Any, document_id: str, scope: Scope | None) -> Document:
    """The full document with the given id (or source); one outside the scope does not exist."""
    row = connection.execute(
        "SELECT id, source, title, text, metadata, page_starts, key, language FROM documents"
        " WHERE id = %s OR source = %s LIMIT 1",
        (document_id, document_id),
    ).fetchone()
    if row is None or (scope is not None and row[6] not in scope.document_keys):
        raise NotFoundError(f"no document {document_id!r} in the index")
    return Document(
        id=row[0],
        source=row[1],
        title=row[2],
        text=row[3],
        metadata=row[4],
        page_starts=tuple(row[5]),
        locations=locations_of(connection, row[6]),
        language=row[7],
        structure=structure_of(connection, row[6]),
    )


def locations_of(connection: Any, key: int) -> tuple[Location, ...]:
    """The labelled locations (sheet rows, slides, ...) of the document of this key, by start."""
    rows = connection.execute(
        "SELECT start, label FROM locations WHERE document_key = %s ORDER BY start", (key,)
    )
    return tuple(map(Location._make, rows))


def structure_of(connection: Any, key: int) -> tuple[StructureSpan, ...]:
    """The structure spans (title, headings, byline, ...) of the document of this key, by start."""
    rows = connection.execute(
        'SELECT kind, start, "end" FROM structure_spans WHERE document_key = %s ORDER BY start', (key,)
    )
    return tuple(map(StructureSpan._make, rows))


def chunk_records(connection: Any, chunk_ids: Sequence[int]) -> dict[int, ChunkRecord]:
    """Chunks by id, with their document's source, title and pages."""
    if not chunk_ids:
        return {}
    rows = connection.execute(
        'SELECT c.id, d.id, c.start, c."end", c.text, d.source, d.title, d.page_starts,'
        " (SELECT label FROM locations l WHERE l.document_key = d.key AND l.start <= c.start"
        "  ORDER BY l.start DESC LIMIT 1)"
        " FROM chunks c JOIN documents d ON d.key = c.document_key WHERE c.id = ANY(%s)",
        (list(chunk_ids),),
    )
    return {row[0]: ChunkRecord(Chunk(*row[:5]), row[5], row[6], tuple(row[7]), row[8]) for row in rows}


def chunk_vectors(connection: Any, chunk_ids: Sequence[int], dimension: int) -> dict[int, np.ndarray]:
    """The stored vectors of those chunks that exist."""
    if not chunk_ids:
        return {}
    rows = connection.execute("SELECT id, vector::real[] FROM chunks WHERE id = ANY(%s)", (list(chunk_ids),))
    return {int(row[0]): np.asarray(row[1], dtype=np.float32) for row in rows if len(row[1]) == dimension}


def vectors(connection: Any, dimension: int, batch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (row_ids, vectors) batches of every stored chunk vector, in chunk id order."""
    # A server-side cursor: a million vectors never sit in this process at once.
    with connection.transaction(), connection.cursor(name="vectors") as cursor:
        cursor.execute("SELECT id, vector::real[] FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(batch):
            row_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            yield row_ids, np.asarray([row[1] for row in rows], dtype=np.float32).reshape(-1, dimension)


def sentence_vectors(connection: Any, texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
    """Vectors stored at ingest for those of the sentence texts that have one (as unit float32)."""
    by_hash = {text_hash(text): text for text in texts}
    if not by_hash:
        return {}
    rows = [
        (hash_value, blob)
        for hash_value, blob in connection.execute(
            "SELECT text_hash, vector FROM sentence_vectors WHERE text_hash = ANY(%s)", (list(by_hash),)
        )
        if len(blob) == 2 * dimension
    ]
    if not rows:
        return {}
    found = np.frombuffer(b"".join(bytes(blob) for _, blob in rows), dtype=np.float16)
    found = found.reshape(len(rows), dimension).astype(np.float32)
    found /= np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12)
    return {by_hash[hash_value]: vector for (hash_value, _), vector in zip(rows, found, strict=True)}


def without_sentence_vectors(connection: Any) -> list[str]:
    """Ids of the documents with text none of whose sentences has a stored vector."""
    rows = connection.execute(
        "SELECT id FROM documents d WHERE length(btrim(d.text)) > 0 AND NOT EXISTS"
        " (SELECT 1 FROM sentence_vectors s WHERE s.document_key = d.key) ORDER BY d.key"
    )
    return [str(row[0]) for row in rows]


def sample_texts(connection: Any, count: int) -> list[str]:
    """The texts of up to `count` chunks, the same ones every time for the same chunks."""
    rows = connection.execute("SELECT text FROM chunks ORDER BY md5(id::text) LIMIT %s", (count,))
    return [str(row[0]) for row in rows]


def scope_of(connection: Any, document_keys: frozenset[int]) -> Scope:
    """The scope holding these documents, with their chunk ids and languages."""
    keys = sorted(document_keys)
    rows = connection.execute("SELECT id FROM chunks WHERE document_key = ANY(%s) ORDER BY id", (keys,))
    chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
    languages = connection.execute(
        "SELECT DISTINCT language FROM documents WHERE key = ANY(%s) ORDER BY language", (keys,)
    )
    return Scope(document_keys, chunk_ids, tuple(row[0] for row in languages))
