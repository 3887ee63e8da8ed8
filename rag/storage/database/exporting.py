"""Documents of a PostgreSQL index read out whole, one a transaction, as `rag copy` carries them
(storage/exported.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from rag.storage.database import page_boxes, reading
from rag.storage.exported import ExportedChunk, ExportedDocument


def exported(connection: Any, key: int, dimension: int, with_boxes: bool) -> ExportedDocument | None:
    """The document of this key with everything stored for it (its page positions when the index
    keeps them: format 2), read in the caller's transaction; None when it is gone."""
    row = connection.execute(
        "SELECT id, source, title, text, metadata, page_starts, content_hash, size_bytes,"
        " to_char(added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), language, script"
        " FROM documents WHERE key = %s",
        (key,),
    ).fetchone()
    if row is None:
        return None
    chunks = tuple(
        ExportedChunk(start, end, text, search_text, terms, np.asarray(vector, dtype=np.float32))
        for start, end, text, search_text, terms, vector in connection.execute(
            'SELECT start, "end", text, search_text, terms, vector::real[] FROM chunks'
            " WHERE document_key = %s ORDER BY id",
            (key,),
        )
    )
    assert all(len(chunk.vector) == dimension for chunk in chunks)  # the column's type holds it
    vectors = connection.execute(
        "SELECT text_hash, vector FROM sentence_vectors WHERE document_key = %s ORDER BY ctid", (key,)
    )
    return ExportedDocument(
        id=row[0],
        source=row[1],
        title=row[2],
        text=row[3],
        metadata=row[4],
        page_starts=tuple(row[5]),
        content_hash=row[6],
        size_bytes=int(row[7]),
        added_at=row[8],
        language=row[9],
        script=row[10],
        chunks=chunks,
        locations=reading.locations_of(connection, key),
        sentence_vectors=tuple((int(hash_value), bytes(blob)) for hash_value, blob in vectors),
        structure=reading.structure_of(connection, key),
        page_boxes=page_boxes.exported(connection, key) if with_boxes else (),
    )


def documents(connection: Any, dimension: int, with_boxes: bool) -> Iterator[ExportedDocument]:
    """Every document with all that is stored for it, in the order they were added."""
    keys = [int(row[0]) for row in connection.execute("SELECT key FROM documents ORDER BY key")]
    for key in keys:
        with connection.transaction():  # one document, as one commit left it
            document = exported(connection, key, dimension, with_boxes)
        if document is not None:  # removed meanwhile
            yield document
