"""What format 4's upkeep of the PostgreSQL change journal costs: pruning it, a follower's read before
each search, and a writer's commit tail under the journal lock.

    python -m eval.journal_upkeep [--rows 1000000] [--rounds 15] [--postgres URL]

A small index is made through rag.open (format 4), then its journal is given `--rows` rows dated a
month back, as a month of writes would leave. Measured: a follower's read before a search when
nothing changed (the floor, the last number and the rows past its position, as rag/storage/database/journal.py's
CHANGES reads them; against format 3's statement, which had no floor), alternating; `rag optimize`'s
prune of the old rows, and the table's size after it and after as many rows again (the freed space
is reused); the commit tail of a transaction of 1,000 chunks under format 3's trigger (one lock for
the database) and format 4's (a lock per schema, and format 3's shared), alternating. One run;
prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import psycopg

import rag
from eval.engines import database
from rag.storage import DATABASE_FORMAT_3, DATABASE_JOURNAL_CHANGES

# Format 3's read before a search (no floor), as its follower ran it: what format 4's is compared with.
CHANGES_3 = """
SELECT j.chunk_id, j.seq, c.vector::real[]
FROM (SELECT chunk_id, max(seq) AS seq FROM vector_journal WHERE seq > %s GROUP BY chunk_id) j
LEFT JOIN chunks c ON c.id = j.chunk_id
"""
OLD_ROWS = (
    "INSERT INTO vector_journal (chunk_id, added, written_at)"
    " SELECT 1 + g %% 200, true, now() - interval '30 days' FROM generate_series(1, %s) g"
)
COPY_CHUNKS = (
    'INSERT INTO chunks (document_key, start, "end", text, terms, length, vector)'
    ' SELECT document_key, start, "end", text, terms, length, vector FROM chunks ORDER BY id LIMIT 1000'
)


def _median_ms(connection: Any, statement: str, parameters: tuple[int, ...], runs: int = 200) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        connection.execute(statement, parameters).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _value(connection: Any, statement: str) -> Any:
    """The one value a statement returns (a one-line error when it returns no row)."""
    row = connection.execute(statement).fetchone()
    if row is None:
        raise SystemExit(f"no row from: {statement}")
    return row[0]


def _size_mb(connection: Any) -> float:
    return round(connection.execute("SELECT pg_total_relation_size('vector_journal')").fetchone()[0] / 1e6, 1)


def _commit_tail_ms(connection: Any) -> float:
    """Journal 1,000 new chunks at once (the commit's tail, made immediate), then take them away."""
    with connection.transaction():
        connection.execute(COPY_CHUNKS)
        start = time.perf_counter()
        connection.execute("SET CONSTRAINTS vector_journal_append IMMEDIATE")
        took = (time.perf_counter() - start) * 1000
        connection.execute("DELETE FROM chunks WHERE id > (SELECT min(id) + 300 FROM chunks)")
    return took


def measure(url: str, rows: int, rounds: int) -> dict[str, Any]:
    """Every number of one run on the database at url (a schema `journal_upkeep` is made in it)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS journal_upkeep CASCADE")
        connection.execute("CREATE SCHEMA journal_upkeep")
    index = f"{url.split('?')[0]}?options=-csearch_path%3Djournal_upkeep,public"
    notes = [rag.TextItem(f"n{i}.txt", f"Note {i} about river {i % 7}.") for i in range(200)]
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(notes)
    result: dict[str, Any] = {"old_rows": rows}
    with psycopg.connect(index, autocommit=True) as connection:
        connection.execute(OLD_ROWS, (rows,))
        connection.execute("INSERT INTO vector_journal (chunk_id, added) VALUES (1, true)")  # this week's
        connection.execute("VACUUM (ANALYZE) vector_journal")
        result["journal_mb"] = _size_mb(connection)
        last = int(_value(connection, "SELECT max(seq) FROM vector_journal"))
        reads: dict[str, list[float]] = {"format_3": [], "format_4": []}
        for _ in range(rounds):
            reads["format_3"].append(_median_ms(connection, CHANGES_3, (last,)))
            reads["format_4"].append(_median_ms(connection, DATABASE_JOURNAL_CHANGES, (256, last)))
        result["read_before_search_p50_ms"] = {k: round(statistics.median(v), 3) for k, v in reads.items()}
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        start = time.perf_counter()
        described = base.optimize()
        result["optimize_seconds"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        base.optimize()
        result["optimize_again_seconds"] = round(time.perf_counter() - start, 2)  # nothing to prune
    result["pruned"] = {key: described[key] for key in ("journal_pruned_upto", "journal_rows_pruned")}
    with psycopg.connect(index, autocommit=True) as connection:
        result["journal_mb_after_prune"] = _size_mb(connection)
        connection.execute(OLD_ROWS, (rows,))
        result["journal_mb_after_as_many_rows_again"] = _size_mb(connection)
        format_4 = _value(connection, "SELECT pg_get_functiondef('vector_journal_append'::regproc)")
        tails: dict[str, list[float]] = {"format_3": [], "format_4": []}
        for _ in range(rounds):
            for name, trigger in (("format_3", DATABASE_FORMAT_3), ("format_4", format_4)):
                connection.execute(trigger)
                tails[name].append(_commit_tail_ms(connection))
        connection.execute(format_4)
        result["commit_tail_1000_chunks_p50_ms"] = {
            k: round(statistics.median(v), 2) for k, v in tails.items()
        }
        connection.execute("DROP SCHEMA journal_upkeep CASCADE")
    return result


def main(argv: list[str] | None = None) -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--postgres", default=None, help="a database (default: start the bundled one)")
    args = parser.parse_args(argv)
    with database(args.postgres) as url:
        print(json.dumps(measure(url, args.rows, args.rounds), indent=2))


if __name__ == "__main__":
    main()
