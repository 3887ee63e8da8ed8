"""python -m eval.fit_fusion: fit the learned fusion weights on one split, report them on another.

The fit split is the SciFact train queries with an even id plus the xquad-dev questions on
articles 00-11; the held-out split is the odd SciFact ids and xquad articles 12-23. Every
candidate of a hybrid search (dense and lexical, 300 each, as `rag eval` searches BEIR sets)
becomes one feature row (FUSION_FEATURES); a listwise linear model learns to put the
chunks of relevant documents first among each query's top candidates. The script prints
the weights to paste into rag/search/fusion.py and document-level nDCG@10, Recall@100 and
hit@1 of reciprocal rank fusion, the shipped weights and the new weights on both splits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rag
from eval.presets import DATASETS
from rag.display import IngestProgressBar
from rag.evaluation import open_corpus_index, read_beir_queries, retrieval_metrics
from rag.search import FUSION_FEATURES, fusion_features, learned_scores

BEIR_DEPTH = 300
L2 = 1e-3
DEPTH = 100  # candidates per query the ranker is fit on, in rank-fusion order


@dataclass(frozen=True)
class Query:
    """One query's candidate chunks: their sources, feature rows and labels, and its judgements."""

    split: str
    sources: tuple[str, ...]
    features: np.ndarray
    relevance: dict[str, float]


def collect(
    folder: Path, split: str, is_fit: Callable[[str, str], bool], limit: int | None, index: Path | None
) -> list[Query]:
    """Search every judged query of a BEIR folder and keep each candidate's feature row.

    is_fit(query id, first relevant document) says whether the query belongs to the fit split;
    index is a built index of the corpus (default: the cached one `rag eval` builds).
    """
    settings = rag.Settings.from_env(candidates=BEIR_DEPTH, fusion="learned")
    questions = read_beir_queries(folder, split)[:limit]
    queries = []
    if index is not None:
        opened = rag.open(index, settings)
    else:
        opened = open_corpus_index(folder / "corpus.jsonl", settings, progress=IngestProgressBar())
    with opened as base:
        for done, question in enumerate(questions, start=1):
            passages = base.search(
                question.question, k=1000
            )  # the most search allows: every candidate of both lists
            row_ids = [passage.chunk_id for passage in passages]
            features = fusion_features(
                row_ids,
                {p.chunk_id: p.dense_score for p in passages if p.dense_score is not None},
                {p.chunk_id: p.lexical_score for p in passages if p.lexical_score is not None},
                {p.chunk_id: p.sentence_score for p in passages if p.sentence_score is not None},
            )
            split_name = "fit" if is_fit(question.id, question.sources[0]) else "held-out"
            sources = tuple(passage.source for passage in passages)
            queries.append(Query(split_name, sources, features, dict(question.relevance)))
            if done % 100 == 0 or done == len(questions):
                print(f"{folder.name}: {done}/{len(questions)} queries", file=sys.stderr)
    return queries


def fit(
    queries: Sequence[Query], dropped: int | None = None, epochs: int = 3000, step: float = 0.5
) -> np.ndarray:
    """Weights of a listwise ranker over each query's first DEPTH candidates, none below 0.

    The loss is the softmax cross-entropy of the relevant chunks among the candidates rank
    fusion puts first, so the weights are judged where nDCG@10 is: at the top. A weight may
    not go below 0, as more evidence must never rank a chunk lower. dropped is a feature
    column left out (its weight stays 0), to measure what it adds.
    """
    groups = []
    for query in queries:
        first = np.argsort(-(query.features[:, 3] + query.features[:, 4]), kind="stable")[:DEPTH]
        labels = np.array([query.relevance.get(query.sources[index], 0.0) > 0 for index in first])
        if labels.any() and not labels.all():
            rows = query.features[first].astype(np.float64)
            if dropped is not None:
                rows[:, dropped] = 0.0
            groups.append((rows, labels))
    weights = np.zeros(len(FUSION_FEATURES))
    for _ in range(epochs):
        gradient = L2 * weights
        for rows, labels in groups:
            scores = rows @ weights
            shares = np.exp(scores - scores.max())
            shares /= shares.sum()
            gradient -= (rows[labels].mean(axis=0) - shares @ rows) / len(groups)
        weights = np.maximum(weights - step * gradient, 0.0)
    return weights / max(float(weights.sum()), 1e-12)


def metrics(queries: Sequence[Query], score: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
    """Mean document-level nDCG@10, Recall@100 and hit@1 when chunks are ranked by score."""
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "hit@1": 0.0}
    for query in queries:
        order = np.argsort(-score(query.features), kind="stable")
        ranked = list(dict.fromkeys(query.sources[index] for index in order))
        found = retrieval_metrics(ranked, query.relevance)
        for name in totals:
            totals[name] += found[name]
    return {name: round(total / max(len(queries), 1), 4) for name, total in totals.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Collect features, fit, and print the weights and the before/after table."""
    parser = argparse.ArgumentParser(prog="python -m eval.fit_fusion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries of each set")
    parser.add_argument("--scifact-index", type=Path, default=None, help="a built index of SciFact")
    parser.add_argument("--xquad-index", type=Path, default=None, help="a built index of xquad-dev")
    parser.add_argument("--features", type=Path, default=None, help="keep the feature rows in this file")
    parser.add_argument(
        "--speed", type=Path, default=None, help="only time search on this index, both fusions"
    )
    args = parser.parse_args(argv)
    if args.speed is not None:
        print(search_speed(args.speed, args.limit or 200))
        return 0
    if args.features is not None and args.features.is_file():
        scifact, xquad = ([_query(row) for row in rows] for rows in json.loads(args.features.read_text()))
    else:
        xquad = collect(DATASETS / "xquad-dev", "test", is_early_article, args.limit, args.xquad_index)
        scifact = collect(DATASETS / "scifact-train", "train", is_even_id, args.limit, args.scifact_index)
        if args.features is not None:
            args.features.write_text(
                json.dumps([[_row(query) for query in queries] for queries in (scifact, xquad)])
            )
    fit_queries = [query for query in scifact + xquad if query.split == "fit"]
    weights = fit(fit_queries)
    print("LEARNED_WEIGHTS =", dict(zip(FUSION_FEATURES, np.round(weights, 4).tolist(), strict=True)))
    without_sentence = fit(fit_queries, dropped=FUSION_FEATURES.index("sentence"))
    rankers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "rrf": lambda rows: rows[:, 3] + rows[:, 4],
        "shipped": learned_scores,
        "fitted": lambda rows: rows @ weights,
        "fitted, no sentence feature": lambda rows: rows @ without_sentence,
    }
    print("| set | split | ranker | nDCG@10 | Recall@100 | hit@1 |\n|---|---|---|---|---|---|")
    for name, queries in (("scifact", scifact), ("xquad", xquad)):
        for split in ("fit", "held-out"):
            chosen = [query for query in queries if query.split == split]
            for ranker, score in rankers.items():
                found = metrics(chosen, score)
                print(
                    f"| {name} | {split} ({len(chosen)}) | {ranker} | {found['ndcg@10']:.4f}"
                    f" | {found['recall@100']:.4f} | {found['hit@1']:.4f} |"
                )
    return 0


def _row(query: Query) -> dict[str, object]:
    return {**vars(query), "features": query.features.tolist()}


def _query(row: dict[str, Any]) -> Query:
    return Query(
        row["split"], tuple(row["sources"]), np.array(row["features"], dtype=np.float32), row["relevance"]
    )


def search_speed(index: Path, count: int) -> dict[str, float]:
    """Search p50 (ms) with rank fusion and with the learned ranker, alternating query by query."""
    queries = [question.question for question in read_beir_queries(DATASETS / "scifact-train", "train")]
    bases = {fusion: rag.open(index, rag.Settings(fusion=fusion)) for fusion in ("rrf", "learned")}
    for base in bases.values():
        base.search(queries[0], k=5)  # loads the FAISS file and warms SQLite's pages
    timings: dict[str, list[float]] = {fusion: [] for fusion in bases}
    for query in queries[:count]:
        for fusion, base in bases.items():
            started = time.perf_counter()
            base.search(query, k=5)
            timings[fusion].append((time.perf_counter() - started) * 1000)
    for base in bases.values():
        base.close()
    p50 = {f"{fusion}_p50_ms": round(statistics.median(values), 1) for fusion, values in timings.items()}
    return p50 | {"learned_to_rrf": round(p50["learned_p50_ms"] / p50["rrf_p50_ms"], 2)}


def is_even_id(query_id: str, _: str) -> bool:
    """SciFact's fit split: queries with an even id."""
    return int(query_id) % 2 == 0


def is_early_article(_: str, source: str) -> bool:
    """xquad-dev's fit split: questions on articles 00-11."""
    return source[:2] < "12"


if __name__ == "__main__":
    sys.exit(main())
