"""How long a reader's FAISS index takes to read every vector from PostgreSQL: the binary COPY the
follower uses (rag/storage/database/follower.py) against rows of `vector::real[]` fetched through
a cursor (how it read them before), alternating, on the bundled server or --postgres.

    python -m eval.follower_read --vectors 100000 --rounds 2

A table of random unit vectors of --dimension numbers is made in a schema of its own, read both
ways in each round, and dropped. Prints one JSON line per read.
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
from rag.storage import read_database_vectors

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
    args = parser.parse_args(argv)
    import psycopg

    schema = f"follower_read_{uuid.uuid4().hex[:8]}"
    with database(args.postgres) as server, psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"SET search_path = {schema}, public")
        try:
            _fill(connection, args.vectors, args.dimension)
            for round_number in range(args.rounds):
                ways = [("rows of real[]", _by_rows), ("binary COPY", _by_copy)]
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
