"""The dashboard's question-log statistics on both engines: a folder and the bundled PostgreSQL.

    python -m eval.log_statistics                  # 100,000 logged questions over 336 days, 3 rounds
    python -m eval.log_statistics --rows 10000 --rounds 5

The same rows (one question in five refused, the others citing one of 300 documents) are written
into a new index folder and into a schema of a PostgreSQL started on 127.0.0.1 (eval/bundled_postgres.py;
on a free port, or one of VERBATIM_POSTGRES_PORTS); then `KnowledgeBase.question_statistics` is timed on
each, alternating, over the whole log and since a recent day. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg

import rag
from eval.bundled_postgres import running_postgres

RECENT = "2026-12-01"
# The question log's columns (rag/storage/question_log.py); rows are written as the stores write them.
COLUMNS = "asked_at, collection, question, answered, mode, latency_ms, cited, answer_id, who, channel"


def logged_questions(count: int) -> list[tuple[object, ...]]:
    """`count` question-log rows spread over 336 days of 2026, the same every run."""
    chosen = random.Random(1)
    rows: list[tuple[object, ...]] = []
    for number in range(count):
        day = number * 336 // count
        source = f"doc{chosen.randrange(300)}.txt"
        cited = [["id-" + source, source]] if number % 5 else []
        rows.append(
            (
                f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T10:00:00+00:00",
                "",
                f"question {number}",
                int(bool(number % 5)),
                "extractive",
                round(chosen.uniform(20, 2000), 1),
                json.dumps(cited),
                f"ans-{number}",
                "",
                chosen.choice(["ui", "api", "cli"]),
            )
        )
    return rows


def fill(location: Path | str, rows: list[tuple[object, ...]], embedder: rag.Embedder) -> None:
    """An index with one document and these rows in its question log (one transaction)."""
    with rag.open(location, embedder=embedder) as base:
        base.add_texts([rag.TextItem("doc1.txt", "The amber river floods the valley every spring.")])
        # A logged question makes the table where it is missing; it goes with the rows below.
        base.ask("When does the amber river flood?", rag.AskOptions(channel="cli"))
    if isinstance(location, Path):
        with sqlite3.connect(location / "rag.sqlite") as connection:
            connection.execute("DELETE FROM question_log")
            connection.executemany(
                f"INSERT INTO question_log ({COLUMNS}) VALUES ({', '.join('?' * 10)})", rows
            )
        return
    with psycopg.connect(location) as database, database.cursor() as cursor:
        cursor.execute("DELETE FROM question_log")
        cursor.executemany(f"INSERT INTO question_log ({COLUMNS}) VALUES ({', '.join(['%s'] * 10)})", rows)
        cursor.execute("ANALYZE question_log")


def main() -> None:
    """Fill both engines, then time the statistics on each, alternating."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = logged_questions(args.rows)
    embedder = rag.HashingEmbedder(256)
    with tempfile.TemporaryDirectory(prefix="log-statistics-") as temporary, running_postgres() as url:
        folder = Path(temporary) / "index"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        started = time.perf_counter()
        fill(folder, rows, embedder)
        fill(url, rows, embedder)
        print(f"filled both with {len(rows)} rows in {time.perf_counter() - started:.0f} s")
        for _ in range(args.rounds):
            for engine, location in (("sqlite", folder), ("postgres", url)):
                with rag.open(location, embedder=embedder) as base:
                    for since in ("", RECENT):
                        started = time.perf_counter()
                        counted = base.question_statistics(since, 10)
                        elapsed = time.perf_counter() - started
                        shown = since or "all"
                        print(
                            f"{engine:8} since {shown:10} {elapsed:.2f} s, {len(counted.latencies_ms)} rows"
                        )


if __name__ == "__main__":
    main()
