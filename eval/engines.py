"""The two storage engines side by side: ingest seconds, search and ask p50, and how alike they rank.

    python -m eval.engines                       # starts the bundled PostgreSQL (pgserver) itself
    python -m eval.engines --postgres postgresql://user@host:5432/db
    python -m eval.engines --synthetic 5000        # made-up documents, hashing embedder: size alone

A BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv; default ../shared/datasets/xquad-dev)
is ingested into a new index folder and into the database with the same model, then every query
is searched (top 5) and asked on both. One run; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import rag

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "xquad-dev"
TOP = 5
BATCH = 2000  # documents a progress line


def corpus_items(folder: Path) -> list[rag.TextItem]:
    """Each corpus row as a text item named by its id."""
    rows = [json.loads(line) for line in (folder / "corpus.jsonl").read_text().splitlines() if line.strip()]
    return [rag.TextItem(f"{row['_id']}.txt", f"{row.get('title', '')}\n\n{row['text']}") for row in rows]


def queries(folder: Path, limit: int) -> list[tuple[str, str, set[str]]]:
    """(id, text, relevant sources) of the first `limit` queries."""
    relevant: dict[str, set[str]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, corpus_id, *_ = line.split("\t")
        relevant.setdefault(query_id, set()).add(f"{corpus_id}.txt")
    rows = [json.loads(line) for line in (folder / "queries.jsonl").read_text().splitlines() if line.strip()]
    return [(row["_id"], row["text"], relevant.get(row["_id"], set())) for row in rows[:limit]]


def measure(
    base: rag.KnowledgeBase, items: list[rag.TextItem], asked: list[tuple[str, str, set[str]]]
) -> dict:
    """Ingest, optimize, then search and ask every query; the timings, hit@1, the vector index's
    measured recall@10 and each query's top sources."""
    base.embedder.embed(["a warm-up sentence"])  # the model loads outside the timings
    started = time.perf_counter()
    for first in range(0, len(items), BATCH):
        base.add_texts(items[first : first + BATCH])
        print(
            f"{base.location}: {first + BATCH:,} documents in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    vector_index = base.optimize()  # recall@10 against exact search, on query-like probes
    optimize_seconds = time.perf_counter() - started
    search_ms, ask_ms, tops, hits = [], [], {}, 0
    for query_id, text, relevant in asked:
        started = time.perf_counter()
        passages = base.search(text, k=TOP)
        search_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = base.ask(text)
        ask_ms.append((time.perf_counter() - started) * 1000)
        assert all(
            base.document(c.quote.document_id).text[c.quote.start : c.quote.end] == c.quote.text
            for c in answer.citations
        )
        tops[query_id] = [f"{p.source}@{p.start}" for p in passages]
        hits += bool(passages) and passages[0].source in relevant
    stats = base.stats()
    return {
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_chunks_per_second": round(stats["chunks"] / ingest_seconds, 1),
        "optimize_seconds": round(optimize_seconds, 2),
        "search_p50_ms": round(statistics.median(search_ms), 1),
        "search_p95_ms": round(percentile(search_ms, 95), 1),
        "ask_p50_ms": round(statistics.median(ask_ms), 1),
        "ask_p95_ms": round(percentile(ask_ms, 95), 1),
        "hit@1": round(hits / len(asked), 3),
        "vector_index": {
            key: vector_index.get(key)
            for key in ("kind", "vectors", "lists", "probes", "recall@10", "recall_queries")
        },
        "stats": {key: stats[key] for key in ("documents", "chunks", "size_bytes")},
        "tops": tops,
    }


def percentile(values: list[float], share: float) -> float:
    """The value `share` percent of the values are at or below (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share / 100 * len(ordered)) - 1))]


def synthetic(
    documents: int, asked: int, seed: int = 0
) -> tuple[list[rag.TextItem], list[tuple[str, str, set[str]]]]:
    """Documents of Zipf-distributed made-up words (about three chunks each), and questions that
    are six consecutive words of one of them (its source the relevant one)."""
    generator = random.Random(seed)
    vocabulary = [
        "".join(generator.choices("bcdfghklmnprstvz", k=3)) + suffix
        for suffix in ("a", "e", "o", "u")
        for _ in range(5000)
    ]
    weights = [1 / rank for rank in range(1, len(vocabulary) + 1)]
    items = []
    for number in range(documents):
        words = generator.choices(vocabulary, weights, k=450)
        items.append(rag.TextItem(f"synthetic/{number}.txt", " ".join(words) + "."))
    questions = []
    for number in generator.sample(range(documents), min(asked, documents)):
        words = items[number].text.rstrip(".").split()
        start = generator.randrange(len(words) - 6)
        questions.append((str(number), " ".join(words[start : start + 6]), {items[number].source}))
    return items, questions


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given URL, or the bundled server started for this run."""
    if url:
        yield url
        return
    import psycopg

    from eval.bundled_postgres import running_postgres

    with running_postgres() as started:
        with psycopg.connect(started, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield started


def main(argv: list[str] | None = None) -> None:
    """Measure both engines on one BEIR folder and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--postgres", default=None, help="an empty database (default: start the bundled one)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="DOCUMENTS",
        help="made-up documents and the hashing embedder",
    )
    args = parser.parse_args(argv)
    if args.synthetic:
        items, asked = synthetic(args.synthetic, args.queries)
        embedder: rag.Embedder | None = rag.HashingEmbedder(384)
    else:
        items, asked = corpus_items(args.data), queries(args.data, args.queries)
        embedder = None
    results = {}
    with tempfile.TemporaryDirectory() as folder, database(args.postgres) as url:
        for engine, location in (("sqlite", str(Path(folder) / "index")), ("postgres", url)):
            with rag.open(location, embedder=embedder) as base:
                results[engine] = measure(base, items, asked)
    first, second = results["sqlite"].pop("tops"), results["postgres"].pop("tops")
    same_top = sum(first[query][:1] == second[query][:1] for query in first) / len(first)
    same_order = sum(first[query] == second[query] for query in first) / len(first)
    overlap = statistics.mean(
        len(set(first[query]) & set(second[query])) / max(len(first[query]), 1) for query in first
    )
    report = {
        "data": f"synthetic: {args.synthetic} documents" if args.synthetic else str(args.data),
        "queries": len(asked),
        **results,
        "same_top_passage": round(same_top, 3),
        f"same_top{TOP}_in_order": round(same_order, 3),
        f"top{TOP}_passage_overlap": round(overlap, 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
