"""Writing a document into a PostgreSQL index: its row, chunks, postings, totals, locations,
sentence vectors, structure spans and page positions, all in one transaction.

The statements of a document go out together in psycopg's pipeline mode and the server is waited
for once, at the commit: the new document's key and its chunks' ids are taken by the server where
they are needed, never read back first. Rows of a kind go in one statement of arrays each
(`unnest`), not a statement a row, and chunk vectors travel in pgvector's binary form
(VectorBytes, sent by the dumper rag/storage/postgres.py registers), so neither side spells out
or parses 384 decimal numbers a chunk. COPY would load rows faster still but cannot ride in a
pipeline: each table would cost its own round trips, which a database on another machine makes
the larger cost (eval/postgres_latency.py; docs/scale.md, "One wait per document").
"""

from __future__ import annotations

import json
import re
import struct
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.errors import NotFoundError
from rag.language.analysis import index_text
from rag.storage import structure_spans
from rag.storage.database import page_boxes
from rag.storage.exported import ExportedChunk, ExportedDocument
from rag.storage.sentence_vectors import text_hash
from rag.storage.store import NewDocument
from rag.types import Location, StructureSpan, document_id

# The change counter is a sequence (writers never wait on it), and a sequence moves before the
# transaction that moves it commits: a reader finding its scope in between (rag/access/scoping.py)
# would cache the state before the change under the number after it. So a change bumps it once
# more after its commit: a scope found before that is never the one kept for the committed state.
BUMP = "SELECT nextval('generation')"
# FTS5's ascii tokenizer: runs of ASCII letters and digits and of any non-ASCII character.
_TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
# Two writers of one source take turns; writers of different sources never wait.
SOURCE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
_INSERT_DOCUMENT = (
    "INSERT INTO documents (id, source, title, text, metadata, page_starts, content_hash,"
    " size_bytes, added_at, language, script) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
    " coalesce(%s::timestamp AT TIME ZONE 'UTC', now()), %s, %s)"
)
# The key of the document this transaction inserted (the session's last value of its sequence).
DOCUMENT_KEY = "currval(pg_get_serial_sequence('documents', 'key'))"
# A chunk (its id the next of the sequence) and its postings: its terms and their frequencies.
_INSERT_CHUNK = f"""
WITH chunk AS (
    INSERT INTO chunks (id, document_key, start, "end", text, search_text, terms, length, vector)
    VALUES (nextval(pg_get_serial_sequence('chunks', 'id')), {DOCUMENT_KEY}, %s, %s, %s, %s, %s, %s, %s::vector)
    RETURNING id, length
)
INSERT INTO chunk_terms (term, chunk_id, frequency, length)
SELECT term, chunk.id, frequency, chunk.length FROM chunk,
    unnest(string_to_array(%s, ' '), string_to_array(%s, ' ')::integer[]) AS posting (term, frequency)
"""


def fts_tokens(terms: str) -> list[str]:
    """The tokens SQLite's ascii tokenizer makes of a chunk's analysed terms (ASCII lower-cased)."""
    return [token.lower() for token in _TOKEN.findall(terms)]


class VectorBytes:
    """A vector in pgvector's binary form (dimension, a zero, big-endian float32s), bound as a `vector`."""

    __slots__ = ("payload",)

    def __init__(self, vector: np.ndarray) -> None:
        values = np.asarray(vector, dtype=">f4").ravel()
        self.payload = struct.pack(">HH", len(values), 0) + values.tobytes()


@dataclass(frozen=True)
class Rows:
    """Everything one document writes: its documents row (id, source, title, text, metadata, page
    starts, content hash, size, added at or None for now, language, script) and what hangs off it."""

    values: tuple[object, ...]
    chunks: Sequence[ExportedChunk]
    locations: Sequence[Location]
    sentence_vectors: Sequence[tuple[int, bytes]]  # (text hash, float16 bytes), in stored order
    structure: Sequence[StructureSpan]
    page_boxes: Sequence[tuple[int, str, bytes]] = ()  # (page, source, encoded runs)


@contextmanager
def pipelined_transaction(connection: Any) -> Iterator[None]:
    """One transaction whose statements go out together in psycopg's pipeline mode: the server
    is waited for only where a result is read and once at the end (with the commit, and the change
    counter bumped after it), not after every statement. (psycopg's own transaction() would wait
    at its start and twice at its end.) On any error the transaction is rolled back and the error
    raised."""
    try:
        with connection.pipeline():
            connection.execute("BEGIN")
            yield
            connection.execute("COMMIT")
            connection.execute(BUMP)
    except BaseException:
        if not connection.closed and connection.info.transaction_status.name != "IDLE":
            connection.execute("ROLLBACK")
        raise


def rows_of_new(document: NewDocument) -> Rows:
    """The rows of a document just read and embedded (its chunks' terms analysed here)."""
    search_texts = document.search_texts or [span.text for span in document.spans]
    chunks = [
        ExportedChunk(
            span.start,
            span.end,
            span.text,
            None if found == span.text else found,
            index_text(found, document.language),
            document.vectors[row],
        )
        for row, (span, found) in enumerate(zip(document.spans, search_texts, strict=True))
    ]
    values = (
        document_id(document.text),
        document.source,
        document.title,
        document.text,
        json.dumps(document.metadata or {}),
        json.dumps(list(document.page_starts)),
        document.content_hash,
        document.size_bytes,
        None,
        document.language,
        document.script,
    )
    # A location given twice keeps its last label (as the row it replaced would).
    locations = [
        Location(start, label)
        for start, label in {found.start: found.label for found in document.locations}.items()
    ]
    return Rows(
        values,
        chunks,
        locations,
        sentence_rows(document.sentence_vectors or {}),
        structure_spans.spans_of(document.text, document.metadata or {}),
        [page_row[1:] for page_row in page_boxes.rows_of(0, document.geometry)],
    )


def rows_of_exported(document: ExportedDocument) -> Rows:
    """The rows of a document read out of another index, as they were stored there."""
    return Rows(
        document.document_row(),
        document.chunks,
        document.locations,
        document.sentence_vectors,
        document.structure,
        document.page_boxes,
    )


def sentence_rows(vectors: Mapping[str, np.ndarray]) -> list[tuple[int, bytes]]:
    """(text hash, float16 bytes) of each sentence vector."""
    return [
        (text_hash(text), np.asarray(vector, dtype=np.float16).tobytes()) for text, vector in vectors.items()
    ]


def write(connection: Any, rows: Rows) -> None:
    """Replace the document of this source by these rows, in one transaction."""
    with pipelined_transaction(connection):
        _send(connection, rows)


def _send(connection: Any, rows: Rows) -> None:
    """The statements that replace the document of this source by these rows, waiting for nothing:
    its new key and its chunks' ids are taken by the server where they are needed (DOCUMENT_KEY,
    and each chunk's postings inserted with it), never read back first."""
    source = rows.values[1]
    connection.execute(SOURCE_LOCK, (source,))
    connection.execute("DELETE FROM documents WHERE source = %s", (source,))
    connection.execute(_INSERT_DOCUMENT, rows.values)
    cursor = connection.cursor()
    _insert_chunks(cursor, rows.chunks)
    if rows.locations:
        cursor.execute(
            f"INSERT INTO locations (document_key, start, label)"
            f" SELECT {DOCUMENT_KEY}, * FROM unnest(%s::integer[], %s::text[])",
            (
                [location.start for location in rows.locations],
                [location.label for location in rows.locations],
            ),
        )
    insert_sentence_vectors(cursor, rows.sentence_vectors)
    if rows.structure:
        cursor.execute(
            f'INSERT INTO structure_spans (document_key, kind, start, "end")'
            f" SELECT {DOCUMENT_KEY}, * FROM unnest(%s::text[], %s::integer[], %s::integer[])",
            [list(column) for column in zip(*rows.structure, strict=True)],
        )
    if rows.page_boxes:
        # A page given twice keeps its last positions (as the row it replaced would).
        pages = list({page: (page, found, runs) for page, found, runs in rows.page_boxes}.values())
        cursor.execute(
            f"INSERT INTO page_boxes (document_key, page, source, runs)"
            f" SELECT {DOCUMENT_KEY}, * FROM unnest(%s::integer[], %s::text[], %s::bytea[])",
            [list(column) for column in zip(*pages, strict=True)],
        )


def insert_sentence_vectors(cursor: Any, rows: Sequence[tuple[int, bytes]], key: int | None = None) -> None:
    """Sentence vectors, in the given order, in one statement, for the document with this key
    (None: the one this transaction inserted)."""
    if rows:
        hashes, blobs = zip(*rows, strict=True)
        cursor.execute(
            "INSERT INTO sentence_vectors (document_key, text_hash, vector)"
            f" SELECT {DOCUMENT_KEY if key is None else '%s'}, * FROM unnest(%s::bigint[], %s::bytea[])",
            ([] if key is None else [key]) + [list(hashes), list(blobs)],
        )


def _insert_chunks(cursor: Any, chunks: Sequence[ExportedChunk]) -> None:
    """A document's chunks, their postings (FTS5's tokens of the analysed terms) and totals.

    Each chunk's id is the next of its sequence, taken as it is inserted (in order, as the chunks
    come), and its postings go in the same statement. Each column of the postings is one string of
    its values between spaces, split by the server: a token never holds a space (_TOKEN), and one
    string is dumped in a fraction of the time psycopg takes for a list of a hundred values.
    """
    tokens = [fts_tokens(chunk.terms) for chunk in chunks]
    for chunk, chunk_tokens in zip(chunks, tokens, strict=True):
        counted = Counter(chunk_tokens)
        cursor.execute(
            _INSERT_CHUNK,
            (
                chunk.start,
                chunk.end,
                chunk.text,
                chunk.search_text,
                chunk.terms,
                len(chunk_tokens),
                VectorBytes(chunk.vector),
                " ".join(counted),
                " ".join(map(str, counted.values())),
            ),
        )
    cursor.execute(
        f"INSERT INTO document_terms (document_key, chunks, terms) VALUES ({DOCUMENT_KEY}, %s, %s)",
        (len(chunks), sum(map(len, tokens))),
    )


def remove(connection: Any, source: str) -> int:
    """Delete a document and its chunks, in one transaction; return how many chunks went."""
    with connection.transaction():
        connection.execute(SOURCE_LOCK, (source,))
        row = connection.execute(
            "SELECT key, (SELECT count(*) FROM chunks WHERE document_key = documents.key)"
            " FROM documents WHERE source = %s",
            (source,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no document with source {source!r} in the index")
        connection.execute("DELETE FROM documents WHERE key = %s", (row[0],))
    connection.execute(BUMP)
    return int(row[1])


def add_sentence_vectors(connection: Any, document: str, vectors: Mapping[str, np.ndarray]) -> bool:
    """Store sentence vectors for the document with this id, in one transaction; False when it is gone."""
    with connection.transaction():
        row = connection.execute("SELECT key FROM documents WHERE id = %s", (document,)).fetchone()
        if row is None:
            return False
        insert_sentence_vectors(connection.cursor(), sentence_rows(vectors), int(row[0]))
    return True
