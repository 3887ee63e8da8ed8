"""python -m eval.scale: the vector index from ten thousand to a million chunks, measured.

- The index Verbatim builds at each size (exact up to the approximate_above setting, IVF with
  8-bit codes above): recall@10 against exact search, single-query search p50, memory, build
  time, and the cost of adding and removing one document's vectors. Vectors are realistic:
  real all-MiniLM-L6-v2 vectors of a real corpus (an index folder) and, past its size,
  synthetic ones drawn around k-means centroids of the real vectors with each cluster's own
  spread, normalised; never uniform random. Queries are the corpus's real queries, embedded:
  half tune the index, the other half measure it.
- Adding one document (and searching) through rag.open at two index sizes ten times apart.

A benchmark, not a test: `make bench` runs it at 100,000 vectors; --sizes 1000000 adds a million
(about half an hour on two busy cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import rag
from rag.evaluation import read_beir_corpus
from rag.storage import BuiltVectorIndex, build_vector_index

DEFAULT_SIZES = (100_000,)
ADD_ONE_SIZES = (10_000, 100_000)
CLUSTERS = 32  # at the real corpus's own size, 32 clusters matched its recall within 0.005
DOCUMENT_CHUNKS = 20
RAY_FILES = 300
WORDS = [
    f"{stem}{suffix}" for stem in ("ta", "re", "mo", "ki", "lu", "so", "ne", "vi") for suffix in range(100)
]


def fit_clusters(
    real: np.ndarray, clusters: int = CLUSTERS, rounds: int = 20, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k-means (Lloyd) on the real vectors: each cluster's mean and its members' offsets from it."""
    generator = np.random.default_rng(seed)
    centres = real[generator.choice(len(real), clusters, replace=False)]
    for _ in range(rounds):
        assignment = np.argmax(real @ centres.T, axis=1)
        for cluster in range(clusters):
            members = real[assignment == cluster]
            if len(members):
                centres[cluster] = members.mean(axis=0)
    assignment = np.argmax(real @ centres.T, axis=1)
    groups = []
    for cluster in range(clusters):
        members = real[assignment == cluster]
        if len(members) > 1:
            mean = members.mean(axis=0)
            groups.append((mean, members - mean))
    return groups


def clustered_vectors(groups: list[tuple[np.ndarray, np.ndarray]], count: int, seed: int = 1) -> np.ndarray:
    """Unit vectors drawn around the cluster means with each cluster's covariance, by cluster size."""
    generator = np.random.default_rng(seed)
    sizes = np.array([len(offsets) for _, offsets in groups], dtype=np.float64)
    picks = generator.choice(len(groups), size=count, p=sizes / sizes.sum())
    vectors = np.empty((count, groups[0][0].shape[0]), dtype=np.float32)
    for cluster, (mean, offsets) in enumerate(groups):
        rows = np.flatnonzero(picks == cluster)
        weights = generator.standard_normal((len(rows), len(offsets))).astype(np.float32)
        vectors[rows] = mean + weights @ offsets / np.sqrt(len(offsets) - 1)
    return unit_rows(vectors)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return np.ascontiguousarray(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), dtype=np.float32)


def exact_neighbours(
    vectors: np.ndarray, queries: np.ndarray, k: int = 10, batch: int = 100_000
) -> np.ndarray:
    """Row numbers of the k nearest vectors to each query, by brute force."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), batch):
        scores = np.concatenate([best_scores, queries @ vectors[start : start + batch].T], axis=1)
        numbers = np.arange(start, min(start + batch, len(vectors)), dtype=np.int64)
        rows = np.concatenate([best_rows, np.broadcast_to(numbers, (len(queries), len(numbers)))], axis=1)
        keep = np.argsort(-scores, axis=1)[:, :k]
        best_scores, best_rows = (
            np.take_along_axis(scores, keep, axis=1),
            np.take_along_axis(rows, keep, axis=1),
        )
    return best_rows


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true neighbours found."""
    hits = sum(len(set(got.tolist()) & set(want.tolist())) for got, want in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def timed_ms(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of runs of action."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return round(float(np.median(timings)), 3)


def measure_index(
    vectors: np.ndarray, queries: np.ndarray, approximate_above: int, data: str
) -> dict[str, Any]:
    """Build the index Verbatim would at this size; its recall, speed, memory and edit costs."""
    tuning, measuring = queries[: len(queries) // 2], queries[len(queries) // 2 :]
    load_before = os.getloadavg()[0]
    built = build_vector_index(vectors, approximate_above, probe_queries=tuning)
    truth = exact_neighbours(vectors, measuring)
    found = built.search(measuring, 10)[1]
    single = iter(np.tile(measuring, (2, 1)))
    search_ms = timed_ms(lambda: built.search(next(single)[None, :], 10), min(300, len(measuring)))
    new_rows = iter(range(len(vectors), len(vectors) + 10**6, DOCUMENT_CHUNKS))
    document = vectors[:DOCUMENT_CHUNKS]

    def add_and_remove() -> tuple[float, float]:
        first = next(new_rows)
        ids = np.arange(first, first + DOCUMENT_CHUNKS, dtype=np.int64)
        start = time.perf_counter()
        built.add(ids, document)
        middle = time.perf_counter()
        built.remove(ids)
        return (middle - start) * 1000, (time.perf_counter() - middle) * 1000

    edits = [add_and_remove() for _ in range(20)]
    info = built.info
    exact_ms = exact_search_ms(built if info.kind == "exact" else None, vectors, measuring)
    return {
        "data": data,
        "vectors": len(vectors),
        "index": info.kind,
        "lists": info.lists,
        "probes": info.probes,
        "recall@10": recall(found, truth),
        "recall@10_tuning": info.recall,
        "search_p50_ms": search_ms,
        "exact_search_p50_ms": exact_ms,
        "memory_mb": round(built.memory_bytes / 1e6, 1),
        "build_s": info.seconds,
        "add_document_ms": round(float(np.median([added for added, _ in edits])), 3),
        "remove_document_ms": round(float(np.median([removed for _, removed in edits])), 3),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def exact_search_ms(exact: BuiltVectorIndex | None, vectors: np.ndarray, queries: np.ndarray) -> float:
    """Single-query p50 of exact search over the same vectors (built here when not given)."""
    exact = exact or build_vector_index(vectors, len(vectors))
    single = iter(queries)
    return timed_ms(lambda: exact.search(next(single)[None, :], 10), min(100, len(queries)))


def add_one_document(size: int, work: Path, runs: int = 20) -> dict[str, Any]:
    """Milliseconds to add one document (committed, and followed by the vector index), and to
    add one and search, in an open index of `size` one-chunk documents."""
    chooser = random.Random(size)
    embedder = rag.HashingEmbedder(384)  # embedding cost left out: the index's cost is measured
    with rag.open(work / f"add-one-{size}", embedder=embedder) as base:
        for start in range(0, size, 10_000):
            base.add_texts(
                [
                    rag.TextItem(f"doc/{number}", _words(chooser))
                    for number in range(start, min(start + 10_000, size))
                ]
            )
        base.search("warm", mode="dense")
        counter = iter(range(10**6))

        def add() -> None:
            base.add_texts([rag.TextItem(f"new/{next(counter)}", _words(chooser))])

        def add_and_search() -> None:
            add()
            base.search(_words(chooser, 6), mode="dense")

        added_ms, searched_ms = timed_ms(add, runs), timed_ms(add_and_search, runs)
        kind = base.stats()["vector_index"]
    return {"chunks": size, "index": kind, "add_one_document_ms": added_ms, "add_and_search_ms": searched_ms}


def ray_versus_local(items: Sequence[rag.TextItem], work: Path) -> dict[str, Any]:
    """Seconds to ingest the same files with the real model: in this process, then on Ray here.

    The Ray time includes starting a local Ray runtime and loading the model in each worker.
    """
    corpus = work / "ray-corpus"
    corpus.mkdir()
    for number, item in enumerate(items):
        (corpus / f"{number:05d}.txt").write_text(item.text, encoding="utf-8")
    timings = {}
    for engine in ("local", "ray"):
        with rag.open(work / f"index-{engine}", embedder=rag.make_embedder(rag.DEFAULT_MODEL)) as base:
            report = base.ingest([corpus], engine=engine)
            backend = base.stats()["embedding_backend"]
        timings[engine] = {"seconds": round(report.seconds, 1), "chunks": report.chunks_embedded}
    chunks = timings["local"]["chunks"]
    return {
        "files": len(items),
        "chunks": chunks,
        "backend": backend,
        "local_s": timings["local"]["seconds"],
        "ray_s": timings["ray"]["seconds"],
        "local_chunks_per_s": round(chunks / timings["local"]["seconds"], 1),
        "ray_chunks_per_s": round(chunks / timings["ray"]["seconds"], 1),
        "cpus": os.cpu_count(),
        "load": round(os.getloadavg()[0], 1),
    }


def _words(chooser: random.Random, count: int = 30) -> str:
    return " ".join(chooser.choice(WORDS) for _ in range(count))


def real_vectors(index: Path) -> np.ndarray:
    """Every chunk vector stored in an index folder."""
    with rag.open(index) as base:
        return np.concatenate([vectors for _, vectors in base.stored_vectors()])


def run(
    real_index: Path,
    queries: Sequence[str],
    sizes: Sequence[int] = DEFAULT_SIZES,
    add_one_sizes: Sequence[int] = ADD_ONE_SIZES,
    clusters: int = CLUSTERS,
    ray_items: Sequence[rag.TextItem] = (),
) -> dict[str, Any]:
    """Every measurement of this module, as a JSON-ready dict."""
    approximate_above = rag.Settings().approximate_above
    real = real_vectors(real_index)
    with rag.open(real_index) as base:
        query_vectors = unit_rows(base.embedder.embed(list(queries)))
    rows = [measure_index(real, query_vectors, approximate_above, "real")]
    groups = fit_clusters(real, clusters)
    for size in sizes:
        print(f"scale: {size:,} clustered vectors ...", file=sys.stderr)
        rows.append(
            measure_index(
                clustered_vectors(groups, size), query_vectors, approximate_above, f"{clusters} clusters"
            )
        )
    with tempfile.TemporaryDirectory(prefix="verbatim-scale-") as work:
        print("scale: adding one document ...", file=sys.stderr)
        added = [add_one_document(size, Path(work)) for size in add_one_sizes]
        if ray_items:
            print(f"scale: ingesting {len(ray_items)} files locally, then on Ray ...", file=sys.stderr)
            engines = ray_versus_local(ray_items, Path(work))
    ratio = added[-1]["add_one_document_ms"] / max(added[0]["add_one_document_ms"], 1e-9)
    results = {
        "approximate_above": approximate_above,
        "queries": len(queries),
        "index": rows,
        "add_one_document": added,
        "add_one_document_ratio": round(ratio, 2),
    }
    return results | ({"ray_versus_local": engines} if ray_items else {})


def markdown(results: dict[str, Any]) -> str:
    """The scale tables of report.md."""
    lines = [
        f"## The vector index at scale (exact up to {results['approximate_above']:,} chunks)",
        "",
        f"Recall@10 against exact search on {results['queries'] // 2} real queries (the other half tuned the probes).",
        "",
        "| vectors | data | index | lists probed | recall@10 | search p50 ms | exact search p50 ms | memory MB"
        " | build s | add doc ms | remove doc ms | load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["index"]:
        probed = f"{row['probes']} of {row['lists']:,}" if row["lists"] else "all"
        lines.append(
            f"| {row['vectors']:,} | {row['data']} | {row['index']} | {probed} | {row['recall@10']} "
            f"| {row['search_p50_ms']} | {row['exact_search_p50_ms']} | {row['memory_mb']} | {row['build_s']} | {row['add_document_ms']} "
            f"| {row['remove_document_ms']} | {row['load'][0]}-{row['load'][1]} |"
        )
    lines += [
        "",
        "| chunks in the index | index | add one document + search, ms (median) |",
        "|---:|---|---:|",
    ]
    for row in results["add_one_document"]:
        lines.append(f"| {row['chunks']:,} | {row['index']} | {row['add_one_document_ms']} |")
    lines += ["", f"Ratio between the two sizes: {results['add_one_document_ratio']}.", ""]
    engines = results.get("ray_versus_local")
    if engines:
        lines += [
            f"Ingest of the same {engines['files']} files ({engines['chunks']} chunks, real model"
            f" on {engines.get('backend', 'torch')},"
            f" {engines['cpus']} CPUs, load {engines['load']}):"
            f" local {engines['local_s']} s ({engines['local_chunks_per_s']} chunks/s),"
            f" Ray {engines['ray_s']} s ({engines['ray_chunks_per_s']} chunks/s).",
            "",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scale benchmark on an index of real vectors and print its tables."""
    parser = argparse.ArgumentParser(prog="python -m eval.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--real-index", type=Path, required=True, help="an index folder built with the real model"
    )
    parser.add_argument("--queries", type=Path, required=True, help="a BEIR queries.jsonl of the same corpus")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--add-one-sizes", type=int, nargs=2, default=list(ADD_ONE_SIZES))
    parser.add_argument("--clusters", type=int, default=CLUSTERS)
    parser.add_argument(
        "--ray-corpus",
        type=Path,
        default=None,
        help="a BEIR corpus.jsonl: ingest its first --ray-files locally and on Ray",
    )
    parser.add_argument("--ray-files", type=int, default=RAY_FILES)
    parser.add_argument("--out", type=Path, default=Path(".verbatim/scale"))
    args = parser.parse_args(argv)
    queries = [
        json.loads(line)["text"]
        for line in args.queries.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    ray_items = read_beir_corpus(args.ray_corpus)[: args.ray_files] if args.ray_corpus else []
    results = run(args.real_index, queries, args.sizes, args.add_one_sizes, args.clusters, ray_items)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
