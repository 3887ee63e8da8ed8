"""FAISS in each reader, following the database, against pgvector's HNSW: measured on one database.

    python -m eval.follower_cost --postgres URL --real-index FOLDER --queries queries.jsonl

Issue 22 asks for vector search either through pgvector or through a FAISS index in each reader
that catches up from a change journal, measured both ways, keeping the faster at equal recall.
This reads every chunk vector out of the database as such a follower would at its start (timed),
builds from them the index Verbatim builds for a folder of that size (IVF with 8-bit codes above
the exact-search threshold, its probes tuned on held-out queries: the second `--questions` of the
file), and measures, from this process and with the same real queries (the first `--questions`):
FAISS search p50/p95 and recall@10 against exact search, pgvector HNSW p50/p95 (a query to the
server) and its recall@10, and the per-question check a follower would add (the generation read).
One run; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import rag
from eval.engines import percentile
from eval.scale import exact_neighbours, recall, unit_rows
from rag.storage import build_vector_index

K = 10


def read_all(store: Any, dimension: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(chunk ids, vectors, seconds): every stored vector, read as a follower starting would."""
    started = time.perf_counter()
    ids, rows = [], []
    for row_ids, vectors in store.iter_vectors(dimension, batch=50_000):
        ids.append(row_ids)
        rows.append(vectors)
        print(f"read {sum(len(part) for part in ids):,} vectors", flush=True, file=sys.stderr)
    return np.concatenate(ids), np.concatenate(rows), time.perf_counter() - started


def timed_ms(search: Callable[[np.ndarray], object], queries: np.ndarray) -> list[float]:
    """Milliseconds of one search per query."""
    timings = []
    for query in queries:
        started = time.perf_counter()
        search(query[None, :])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> None:
    """Measure both ways over the database's chunks and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="a database holding a Verbatim index")
    parser.add_argument("--real-index", type=Path, required=True, help="an index folder of the real model")
    parser.add_argument("--queries", type=Path, required=True, help="a BEIR queries.jsonl")
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args(argv)
    texts = [json.loads(line)["text"] for line in args.queries.read_text().splitlines() if line.strip()]
    with rag.open(args.real_index) as real:
        embedder = real.embedder
        embedded = unit_rows(embedder.embed(texts[: 2 * args.questions]))
    queries, probes = embedded[: args.questions], embedded[args.questions :]
    report: dict[str, object] = {"load_before": os.getloadavg()}
    with rag.open(args.postgres, embedder=embedder) as base:
        store: Any = base.store  # the PostgreSQL store: its vectors, HNSW search and generation
        ids, vectors, read_seconds = read_all(store, queries.shape[1])
        report |= {"chunks": len(ids), "follower_read_seconds": round(read_seconds, 1)}
        truth = ids[exact_neighbours(vectors, queries, K)]
        started = time.perf_counter()
        built = build_vector_index(vectors, rag.Settings().approximate_above, probe_queries=probes)
        build_seconds = time.perf_counter() - started
        faiss_ms = timed_ms(lambda query: built.search(query, K), queries)
        _, found = built.search(queries, K)
        report["faiss_follower"] = {
            "index": built.info.to_dict(),
            "build_seconds": round(build_seconds, 1),
            "search_p50_ms": round(statistics.median(faiss_ms), 2),
            "search_p95_ms": round(percentile(faiss_ms, 95), 2),
            "recall@10": round(recall(ids[found], truth), 4),
            "memory_mb": round(built.memory_bytes / 1e6, 1),
        }
        store.dense_search(queries[:1], K)  # sets ef_search on the connection
        hnsw_ms = timed_ms(lambda query: store.dense_search(query, K), queries)
        _, hnsw_found = store.dense_search(queries, K)
        check_ms = timed_ms(lambda _: store.generation(), queries)
        report["pgvector_hnsw"] = {
            "search_p50_ms": round(statistics.median(hnsw_ms), 2),
            "search_p95_ms": round(percentile(hnsw_ms, 95), 2),
            "recall@10": round(recall(hnsw_found, truth), 4),
        }
        report["generation_read_p50_ms"] = round(statistics.median(check_ms), 2)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
