"""python -m eval.fit_fusion: fit the learned fusion weights on one split, report them on another.

The fit split is the SciFact train queries with an even id plus the xquad-dev questions on
articles 00-11; the held-out split is the odd SciFact ids and xquad articles 12-23. Every
candidate of a hybrid search (dense and lexical, 300 each, as `rag eval` searches BEIR sets)
becomes one feature row (rag.FUSION_FEATURES); a pairwise logistic model learns which chunk
of a relevant document should rank above which chunk of an irrelevant one. The script prints
the weights to paste into rag/search/fusion.py and document-level nDCG@10, Recall@100 and
hit@1 of reciprocal rank fusion, the shipped weights and the new weights on both splits.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rag
from eval.presets import DATASETS

BEIR_DEPTH = 300
L2 = 1e-3


@dataclass(frozen=True)
class Query:
    """One query's candidate chunks: their sources, feature rows and labels, and its judgements."""

    split: str
    sources: tuple[str, ...]
    features: np.ndarray
    relevance: dict[str, float]


def collect(folder: Path, split: str, is_fit: Callable[[str, str], bool], limit: int | None) -> list[Query]:
    """Search every judged query of a BEIR folder and keep each candidate's feature row.

    is_fit(query id, first relevant document) says whether the query belongs to the fit split.
    """
    settings = rag.Settings.from_env(candidates=BEIR_DEPTH, fusion="learned")
    questions = rag.read_beir_queries(folder, split)[:limit]
    queries = []
    with rag.open_corpus_index(folder / "corpus.jsonl", settings, progress=rag.IngestProgressBar()) as base:
        for done, question in enumerate(questions, start=1):
            passages = base.search(question.question, k=4 * BEIR_DEPTH)
            row_ids = [passage.chunk_id for passage in passages]
            features = rag.fusion_features(
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


def fit(queries: Sequence[Query], epochs: int = 2000, step: float = 2.0) -> np.ndarray:
    """Weights of a pairwise logistic ranker: every query counts the same, however many pairs it has."""
    differences, pair_weights = [], []
    for query in queries:
        labels = np.array([query.relevance.get(source, 0.0) > 0 for source in query.sources])
        positives, negatives = query.features[labels], query.features[~labels]
        if len(positives) == 0 or len(negatives) == 0:
            continue
        pairs = (positives[:, None, :] - negatives[None, :, :]).reshape(-1, query.features.shape[1])
        differences.append(pairs)
        pair_weights.append(np.full(len(pairs), 1.0 / len(pairs)))
    pairs_all = np.concatenate(differences).astype(np.float64)
    weights_all = np.concatenate(pair_weights) / len(differences)
    weights = np.zeros(pairs_all.shape[1])
    for _ in range(epochs):
        margins = pairs_all @ weights
        gradient = -(pairs_all * (weights_all / (1.0 + np.exp(margins)))[:, None]).sum(axis=0) + L2 * weights
        weights -= step * gradient
    return weights / np.abs(weights).sum()


def metrics(queries: Sequence[Query], score: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
    """Mean document-level nDCG@10, Recall@100 and hit@1 when chunks are ranked by score."""
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "hit@1": 0.0}
    for query in queries:
        order = np.argsort(-score(query.features), kind="stable")
        ranked = list(dict.fromkeys(query.sources[index] for index in order))
        found = rag.retrieval_metrics(ranked, query.relevance)
        for name in totals:
            totals[name] += found[name]
    return {name: round(total / max(len(queries), 1), 4) for name, total in totals.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Collect features, fit, and print the weights and the before/after table."""
    parser = argparse.ArgumentParser(prog="python -m eval.fit_fusion", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries of each set")
    args = parser.parse_args(argv)
    scifact = collect(
        DATASETS / "scifact-train", "train", lambda query_id, _: int(query_id) % 2 == 0, args.limit
    )
    xquad = collect(DATASETS / "xquad-dev", "test", lambda _, source: source[:2] < "12", args.limit)
    weights = fit([query for query in scifact + xquad if query.split == "fit"])
    print("LEARNED_WEIGHTS =", dict(zip(rag.FUSION_FEATURES, np.round(weights, 4).tolist(), strict=True)))
    rankers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "rrf": lambda rows: rows[:, 3] + rows[:, 4],
        "shipped": rag.learned_scores,
        "fitted": lambda rows: rows @ weights,
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


if __name__ == "__main__":
    sys.exit(main())
