"""pgvector's HNSW against the reader's own FAISS index following the database (format 3's change
journal, rag/storage/database/follower.py), on one database: recall@10 against brute force, search
p50/p95, the follower's start and catching up, and what the journal and the HNSW index cost a write.

    python -m eval.follower_scale --chunks 100000 [--postgres URL]

Synthetic unit vectors of 384 numbers drawn around 64 random centres (eval/engines_scale.py draws
around a real index's clusters; this needs no model); queries, and the probes the follower tunes
its IVF lists on, are drawn the same way and held out. The database is filled as `rag copy` fills
an empty one (rows first, the HNSW index built after them). Searches run from this process. Writes
are measured alternating: one document of ten chunks written, then removed, with the journal's
trigger on and off, first with the HNSW index and then without it. One run; prints JSON.
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

import rag
from eval.engines import database, percentile
from eval.engines_scale import documents
from eval.scale import exact_neighbours, recall, unit_rows
from rag.storage import bulk_load
from rag.storage.database.follower import DatabaseVectors
from rag.storage.postgres import PostgresStore

DIMENSION = 384
K = 10
CENTRES = 64
PROBES = 300


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


def writes(store: PostgresStore, vectors: np.ndarray, rounds: int) -> dict[str, dict[str, float]]:
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
    store.with_connection(lambda c: c.execute("ALTER TABLE chunks ENABLE TRIGGER vector_journal_append"))
    return {
        variant: {
            "write_ms": round(statistics.median(taken[variant]), 1),
            "remove_ms": round(statistics.median(removed[variant]), 1),
        }
        for variant in taken
    }


def main(argv: list[str] | None = None) -> None:
    """Fill one database, measure both searches and the write costs, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--write-rounds", type=int, default=20)
    parser.add_argument("--postgres", default=None, help="an empty database (default: start the bundled one)")
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
        store = PostgresStore.create(url, DIMENSION)
        store.check_or_write_manifest(
            {"embedding_model": f"hashing-{DIMENSION}", "chunk_size": "1000", "chunk_overlap": "150"}
            | {"dimension": str(DIMENSION)}
        )
        started = time.perf_counter()
        assert bulk_load.start(store, "eval.follower_scale")
        for done, document in enumerate(documents(vectors), start=1):
            store.import_document(document)
            if done % 2000 == 0:
                print(f"{done * 10:,} chunks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        rows_seconds = time.perf_counter() - started
        bulk_load.finish(store)
        report["fill"] = {
            "rows_seconds": round(rows_seconds, 1),
            "hnsw_build_seconds": round(time.perf_counter() - started - rows_seconds, 1),
        }
        ids = np.fromiter(
            (
                row[0]
                for row in store.with_connection(lambda c: c.execute("SELECT id FROM chunks ORDER BY id"))
            ),
            dtype=np.int64,
        )
        truth = ids[exact_neighbours(vectors, queries, K)]  # chunk ids are given in document order
        follower = DatabaseVectors(
            store,
            DIMENSION,
            rag.Settings.from_env().approximate_above,
            embed=lambda texts: probes[: len(texts)],
        )
        started = time.perf_counter()
        follower.sync()
        report["faiss_follower"] = {
            "start_seconds": round(time.perf_counter() - started, 1)
        } | follower.describe()
        store.dense_search(queries[:1], K)  # sets ef_search on the connection
        for name, search in (
            ("faiss_follower", lambda query: follower.search(query[None, :], K)),
            ("hnsw_ef_search_100", lambda query: store.dense_search(query[None, :], K)),
        ):
            timings = timed_ms(search, list(queries))
            found = np.concatenate([search(query)[1] for query in queries])
            report.setdefault(name, {}).update(
                summary(timings) | {"recall@10": round(recall(found, truth), 4)}
            )
        store.with_connection(lambda c: c.execute("SET hnsw.ef_search = 400"))
        timings = timed_ms(lambda query: store.dense_search(query[None, :], K), list(queries))
        found = store.dense_search(queries, K)[1]
        report["hnsw_ef_search_400"] = summary(timings) | {"recall@10_queries": recall(found, truth)}
        report["writes_with_hnsw"] = writes(store, extra, args.write_rounds)
        caught_up = []
        for number in range(10):
            document = documents(extra[number * 10 : number * 10 + 10], seed=100 + number)[0]
            document = dataclasses.replace(document, source=f"followed/{number}.txt")
            store.import_document(document)
            caught_up += timed_ms(lambda query: follower.search(query[None, :], K), [queries[number]])
            store.remove_document(document.source)
        report["faiss_follower"]["search_after_one_write"] = summary(caught_up)
        store.with_connection(lambda c: c.execute("DROP INDEX chunks_vector"))
        report["writes_without_hnsw"] = writes(store, extra, args.write_rounds)
        store.close()
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
