"""How long a reader's FAISS index takes to read every vector from PostgreSQL: the binary COPY the
follower uses (rag/storage/database/follower.py) against rows of `vector::real[]` fetched through
a cursor (how it read them before), alternating, on the bundled server or --postgres.

    python -m eval.follower_read --vectors 100000 --rounds 2

A table of random unit vectors of --dimension numbers is made in a schema of its own, read both
ways in each round, and dropped. Prints one JSON line per read.

    python -m eval.follower_read --vectors 20000 --catch-up --rounds 3

--catch-up times a follower catching up with a journal naming every one of those chunks instead:
the journal read with each vector fetched as `real[]` text (how it caught up before), against the
journal read naming which chunks hold a vector, then their vectors by the binary COPY (now).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from typing import Any

import numpy as np

from eval.engines import database
from rag.storage import DATABASE_JOURNAL_CHANGES, read_database_vectors

ROWS_PER_WRITE = 10_000


def _fill(connection: Any, count: int, dimension: int) -> None:
    connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    connection.execute(f"CREATE TABLE chunks (id bigserial PRIMARY KEY, vector vector({dimension}) NOT NULL)")
    rng = np.random.default_rng(0)
    with connection.cursor() as cursor, cursor.copy("COPY chunks (vector) FROM STDIN") as copy:
        for start in range(0, count, ROWS_PER_WRITE):
            vectors = rng.standard_normal((min(ROWS_PER_WRITE, count - start), dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for vector in vectors:
                copy.write_row(["[" + ",".join(f"{value:.9g}" for value in vector) + "]"])
    connection.execute("VACUUM ANALYZE chunks")


def _by_rows(connection: Any, dimension: int) -> int:
    """The earlier way: rows of real[] parsed from text, 10,000 at a time."""
    read = 0
    with connection.transaction(), connection.cursor(name="vectors") as cursor:
        cursor.execute("SELECT id, vector::real[] FROM chunks ORDER BY id")
        while rows := cursor.fetchmany(ROWS_PER_WRITE):
            np.asarray([row[1] for row in rows], dtype=np.float32).reshape(-1, dimension)
            read += len(rows)
    return read


# The follower's read before a search until December 2026: the vectors as text in the journal read.
_CHANGES_AS_TEXT = """
SELECT f.upto, f.last, j.chunk_id, j.seq, c.vector::real[]
FROM (
    SELECT coalesce(max(value::bigint), 0) AS upto, (SELECT coalesce(max(seq), 0) FROM vector_journal) AS last
    FROM manifest WHERE key = 'vector_journal_pruned'
) f
LEFT JOIN (SELECT chunk_id, max(seq) AS seq FROM vector_journal WHERE seq > %s GROUP BY chunk_id) j ON true
LEFT JOIN chunks c ON c.id = j.chunk_id
"""


def _journal(connection: Any) -> None:
    """A journal naming every chunk, as format 4 keeps it (its floor in the manifest)."""
    connection.execute("CREATE TABLE manifest (key text PRIMARY KEY, value text NOT NULL)")
    connection.execute("CREATE TABLE vector_journal (seq bigserial PRIMARY KEY, chunk_id bigint NOT NULL)")
    connection.execute("INSERT INTO vector_journal (chunk_id) SELECT id FROM chunks ORDER BY id")
    connection.execute("VACUUM ANALYZE vector_journal")


def _catch_up_as_text(connection: Any, dimension: int) -> int:
    rows = [row[2:] for row in connection.execute(_CHANGES_AS_TEXT, (0,)).fetchall() if row[2] is not None]
    present = [row for row in rows if row[2] is not None and len(row[2]) == dimension]
    np.asarray([row[2] for row in present], dtype=np.float32).reshape(-1, dimension)
    return len(present)


def _catch_up_by_copy(connection: Any, dimension: int) -> int:
    rows = connection.execute(DATABASE_JOURNAL_CHANGES, (dimension, 0)).fetchall()
    held = [row[2] for row in rows if row[2] is not None and row[4]]
    return sum(len(ids) for ids, _ in read_database_vectors(connection, dimension, held))


def _by_copy(connection: Any, dimension: int) -> int:
    with connection.transaction():
        return sum(len(ids) for ids, _ in read_database_vectors(connection, dimension))


def main(argv: list[str] | None = None) -> None:
    """Fill a table, read it both ways --rounds times, print each read."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", default=None, help="a database (default: start the bundled one)")
    parser.add_argument("--catch-up", action="store_true", help="time a follower's catch-up read instead")
    args = parser.parse_args(argv)
    import psycopg

    schema = f"follower_read_{uuid.uuid4().hex[:8]}"
    with database(args.postgres) as server, psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"SET search_path = {schema}, public")
        try:
            _fill(connection, args.vectors, args.dimension)
            ways = [("rows of real[]", _by_rows), ("binary COPY", _by_copy)]
            if args.catch_up:
                _journal(connection)
                ways = [
                    ("catch-up, vectors as text", _catch_up_as_text),
                    ("catch-up, binary COPY", _catch_up_by_copy),
                ]
            for round_number in range(args.rounds):
                for way, read in ways if round_number % 2 == 0 else ways[::-1]:
                    load, started, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
                    count = read(connection, args.dimension)
                    row = {
                        "round": round_number,
                        "way": way,
                        "vectors": count,
                        "seconds": round(time.perf_counter() - started, 2),
                        "client_cpu_seconds": round(time.process_time() - cpu, 2),
                        "load": round(load, 1),
                    }
                    print(json.dumps(row), flush=True)
        finally:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
