"""pgvector's HNSW against the reader's own FAISS index following the database (format 3's change
journal, rag/storage/database/follower.py), on one database: recall@10 against brute force, search
p50/p95, the follower's start and catching up, and what the journal and the HNSW index cost a write.

    python -m eval.follower_scale --chunks 100000 [--postgres URL]

Synthetic unit vectors of 384 numbers drawn around 64 random centres (eval/engines_scale.py draws
around a real index's clusters; this needs no model); queries, and the probes the follower tunes
its IVF lists on, are drawn the same way and held out. The database is filled as `rag copy` fills
an empty one (rows first, the HNSW index built after them). Searches run from this process. Writes
are measured alternating: one document of ten chunks written, then removed, with the journal's
trigger on and off, first with the HNSW index and then without it. A second process's start (the
copy the first saved, caught up past one more write) is timed too. --without-hnsw measures the
follower alone, as a new index is kept (storage/database/hnsw.py). One run; prints JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np
import psycopg

import rag
from eval.engines import database, percentile
from eval.engines_scale import documents
from eval.scale import exact_neighbours, recall, unit_rows

DIMENSION = 384
K = 10
CENTRES = 64
PROBES = 300
# What a bulk load builds after the rows (rag/storage/bulk_load.py), with its memory for the graph.
HNSW = "CREATE INDEX chunks_vector ON chunks USING hnsw (vector vector_ip_ops)"


class ProbeEmbedder:
    """Stands in for the model: each text embeds as the next held-out probe, so the follower's IVF
    lists are tuned on vectors drawn like the queries (eval/follower_cost.py tunes on real claims)."""

    backend = "synthetic"
    name = f"synthetic-{DIMENSION}"
    dimension = DIMENSION
    languages = frozenset({"und"})

    def __init__(self, probes: np.ndarray) -> None:
        self.probes = probes
        self.given = 0

    def embed(self, texts: Any) -> np.ndarray:
        """The next len(texts) probes, round the held-out set."""
        rows = [(self.given + number) % len(self.probes) for number in range(len(texts))]
        self.given += len(texts)
        return self.probes[rows]


def synthetic(count: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around CENTRES random centres (all drawn from one generator, so queries share them)."""
    generator = np.random.default_rng(seed)
    centres = unit_rows(generator.standard_normal((CENTRES, DIMENSION)).astype(np.float32))
    noise = generator.standard_normal((count, DIMENSION)).astype(np.float32) * 0.06
    return unit_rows(centres[generator.integers(0, CENTRES, count)] + noise)


def timed_ms(action: Any, items: list[Any]) -> list[float]:
    """Milliseconds of action(item) for each item."""
    timings = []
    for item in items:
        started = time.perf_counter()
        action(item)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(percentile(timings, 95), 2)}


def writes(store: Any, url: str, vectors: np.ndarray, rounds: int) -> dict[str, dict[str, float]]:
    """Median ms to write one document of ten chunks, and to remove it, with the journal on and off."""
    made = [
        dataclasses.replace(document, source=f"written/{number}.txt")
        for number, document in enumerate(documents(vectors[: 2 * rounds * 10], seed=7))
    ]
    taken: dict[str, list[float]] = {"journal on": [], "journal off": []}
    removed: dict[str, list[float]] = {"journal on": [], "journal off": []}
    for number, document in enumerate(made):
        variant = "journal on" if number % 2 == 0 else "journal off"
        switch = "ENABLE" if variant == "journal on" else "DISABLE"
        store.with_connection(
            lambda c, s=switch: c.execute(f"ALTER TABLE chunks {s} TRIGGER vector_journal_append")
        )
        taken[variant] += timed_ms(store.import_document, [document])
        removed[variant] += timed_ms(store.remove_document, [document.source])
    execute(url, "ALTER TABLE chunks ENABLE TRIGGER vector_journal_append")
    return {
        variant: {
            "write_ms": round(statistics.median(taken[variant]), 1),
            "remove_ms": round(statistics.median(removed[variant]), 1),
        }
        for variant in taken
    }


def execute(url: str, *statements: str) -> list[Any]:
    """Run statements on their own connection; the rows of the last."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows: list[Any] = []
        for statement in statements:
            cursor = connection.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
        return rows


def main(argv: list[str] | None = None) -> None:
    """Fill one database, measure both searches and the write costs, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--write-rounds", type=int, default=20)
    parser.add_argument("--postgres", default=None, help="an empty database (default: start the bundled one)")
    parser.add_argument(
        "--without-hnsw",
        action="store_true",
        help="the follower alone, as a new index is kept (no HNSW index built, searched or written through)",
    )
    args = parser.parse_args(argv)
    drawn = synthetic(args.chunks + args.questions + PROBES + 2 * args.write_rounds * 10)
    vectors, rest = drawn[: args.chunks], drawn[args.chunks :]
    queries, probes, extra = (
        rest[: args.questions],
        rest[args.questions : args.questions + PROBES],
        rest[-400:],
    )
    report: dict[str, Any] = {"chunks": args.chunks, "load_before": os.getloadavg()}
    with database(args.postgres) as url:
        settings = rag.Settings(
            postgres_vectors="faiss", approximate_above=rag.Settings.from_env().approximate_above
        )
        with rag.open(url, settings=settings, embedder=ProbeEmbedder(probes)) as base:
            base.add_texts(
                [rag.TextItem("first.txt", "The first document makes the index and its manifest.")]
            )
            store: Any = base.store  # the PostgreSQL store: rows written as stored, HNSW search
            execute(
                url, "DROP INDEX IF EXISTS chunks_vector"
            )  # as a bulk load does: rows first, the graph after
            started = time.perf_counter()
            for done, document in enumerate(documents(vectors), start=1):
                store.import_document(document)
                if done % 2000 == 0:
                    print(f"{done * 10:,} chunks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            rows_seconds = time.perf_counter() - started
            if not args.without_hnsw:
                execute(url, "SET maintenance_work_mem = '1GB'", HNSW)
            report["fill"] = {
                "rows_seconds": round(rows_seconds, 1),
                "hnsw_build_seconds": round(time.perf_counter() - started - rows_seconds, 1),
            }
            ids = np.array([row[0] for row in execute(url, "SELECT id FROM chunks ORDER BY id")])
            first = store.chunk_vectors([int(ids[0])], DIMENSION)[int(ids[0])]  # first.txt's one chunk
            truth = ids[exact_neighbours(np.vstack([first[None, :], vectors]), queries, K)]
            follower: Any = base.retriever.vectors
            started = time.perf_counter()
            follower.sync()
            report["faiss_follower"] = {"start_seconds": round(time.perf_counter() - started, 1)}
            report["faiss_follower"] |= follower.describe()
            base.add_texts([rag.TextItem("second.txt", "A second document written after the build.")])
            with rag.open(url, settings=settings, embedder=ProbeEmbedder(probes)) as restarted:
                started = time.perf_counter()
                restarted.retriever.vectors.sync()
                report["faiss_follower"]["restart_seconds"] = round(time.perf_counter() - started, 2)
            base.remove("second.txt")
            searches = [("faiss_follower", lambda query: follower.search(query[None, :], K))]
            if not args.without_hnsw:
                store.dense_search(queries[:1], K)  # sets ef_search on the connection
                searches.append(("hnsw_ef_search_100", lambda query: store.dense_search(query[None, :], K)))
            for name, search in searches:
                timings = timed_ms(search, list(queries))
                found = np.concatenate([search(query)[1] for query in queries])
                report.setdefault(name, {}).update(
                    summary(timings) | {"recall@10_queries": recall(found, truth)}
                )
            if not args.without_hnsw:
                store.with_connection(lambda connection: connection.execute("SET hnsw.ef_search = 400"))
                timings = timed_ms(lambda query: store.dense_search(query[None, :], K), list(queries))
                found = store.dense_search(queries, K)[1]
                report["hnsw_ef_search_400"] = summary(timings) | {"recall@10_queries": recall(found, truth)}
                report["writes_with_hnsw"] = writes(store, url, extra, args.write_rounds)
            caught_up = []
            for number in range(10):
                document = documents(extra[number * 10 : number * 10 + 10], seed=100 + number)[0]
                document = dataclasses.replace(document, source=f"followed/{number}.txt")
                store.import_document(document)
                caught_up += timed_ms(lambda query: follower.search(query[None, :], K), [queries[number]])
                store.remove_document(document.source)
            report["faiss_follower"]["search_after_one_write"] = summary(caught_up)
            execute(url, "DROP INDEX IF EXISTS chunks_vector")
            report["writes_without_hnsw"] = writes(store, url, extra, args.write_rounds)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
