"""python -m eval.sentence_weights ROWS: would other sentence-score weights answer more across languages?

The sentence score (rag/answer/scoring.py) is 0.65 x similarity + 0.25 x word overlap + 0.10 /
passage rank + small answer-type terms; across scripts the overlap is zero, so the score is
similarity, rank and the answer-type terms. This re-weighs the candidates of rows written by
`python -m eval.calibrate --rows` (each candidate carries its passage rank and its cosine
with the question): score' = score + (a - 0.65) x similarity + (b - 0.10) /
rank. For every pair of weights a threshold is fitted on one half of the articles and scored on
the other, both ways round (as eval.calibrate --two-fold does); the weights themselves are
chosen on the fitting half too, so the held-out numbers are honest. Candidates without a
similarity (rows written before it was recorded) keep their score. The re-weighing takes the
length factor (below 1 only for sentences under five words) as 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.calibrate import Rule, balanced, halves, refusal_metrics, tuned

SIMILARITY, RANK = 0.65, 0.10
WEIGHTS = [(a, b) for a in (0.5, 0.65, 0.8, 1.0, 1.3) for b in (0.0, 0.05, 0.1, 0.2)]


def reweighed(rows: list[dict], similarity: float, rank: float) -> list[dict]:
    """The rows with every candidate re-scored under these weights, best first."""
    out = []
    for row in rows:
        candidates = []
        for candidate in row["candidates"]:
            score = candidate["score"]
            if candidate.get("similarity") is not None:
                score += (similarity - SIMILARITY) * candidate["similarity"] + (rank - RANK) / candidate[
                    "rank"
                ]
            candidates.append(candidate | {"score": score})
        out.append(row | {"candidates": sorted(candidates, key=lambda item: item["score"], reverse=True)})
    return out


def separation(rows: list[dict]) -> float:
    """How often an answerable question's best score beats an unanswerable one's (ROC AUC; no threshold)."""
    best = [
        (row["candidates"][0]["score"] if row["candidates"] else -10.0, row["answerable"]) for row in rows
    ]
    answerable = [score for score, is_answerable in best if is_answerable]
    refused = [score for score, is_answerable in best if not is_answerable]
    wins = sum((mine > other) + 0.5 * (mine == other) for mine in answerable for other in refused)
    return wins / max(1, len(answerable) * len(refused))


def fitted(rows: list[dict], weights: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], Rule]:
    """The weights and threshold that score best on these rows."""
    best = max(
        ((pair, tuned(reweighed(rows, *pair), lexical=True)) for pair in weights),
        key=lambda item: balanced(reweighed(rows, *item[0]), item[1]),
    )
    return best


def held_out(rows: list[dict], weights: Sequence[tuple[float, float]]) -> dict:
    """Each half scored with the weights and threshold fitted on the other, averaged; and what was fitted."""
    parts = halves(rows)
    scored, chosen = [], []
    for fit, test in ((parts[0], parts[1]), (parts[1], parts[0])):
        pair, rule = fitted(fit, weights)
        chosen.append({"similarity": pair[0], "rank": pair[1], "threshold": rule.threshold})
        scored.append(
            refusal_metrics(reweighed(test, *pair), rule) | {"auc": separation(reweighed(test, *pair))}
        )
    keys = (
        "auc",
        "refusal_precision",
        "refusal_recall",
        "answerable_answered",
        "answerable_answered_and_contains",
    )
    return {
        "held_out": {key: round((scored[0][key] + scored[1][key]) / 2, 3) for key in keys},
        "fitted": chosen,
    }


def markdown(results: dict) -> str:
    """One row per group and way: held-out AUC, refusal P / R, answered, contains, the weights fitted."""
    lines = [
        "| English questions over | weights | AUC | refusal P / R | answered | contains | fitted on each half (similarity, rank; threshold) |",
        "|---|---|---|---|---|---|---|",
    ]
    for group, ways in results.items():
        for way, result in ways.items():
            scores = result["held_out"]
            fits = " / ".join(
                f"{fit['similarity']}, {fit['rank']}; {fit['threshold']}" for fit in result["fitted"]
            )
            lines.append(
                f"| {group.split('>')[-1]} | {way} | {scores['auc']:.3f} | {scores['refusal_precision']:.3f} / "
                f"{scores['refusal_recall']:.3f} | {scores['answerable_answered']:.3f} | "
                f"{scores['answerable_answered_and_contains']:.3f} | {fits} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print, per group and pooled, today's weights against weights fitted on the other half."""
    parser = argparse.ArgumentParser(
        prog="python -m eval.sentence_weights", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("rows", type=Path, nargs="+", help="rows written by python -m eval.calibrate --rows")
    parser.add_argument(
        "--groups", default="", help="comma-separated groups (default: those across languages)"
    )
    args = parser.parse_args(argv)
    groups: dict[str, list[dict]] = {}
    for path in args.rows:
        groups |= json.loads(path.read_text())
    names = [name for name in args.groups.split(",") if name] or [name for name in groups if ">" in name]
    missing = sum(
        candidate.get("similarity") is None
        for name in names
        for row in groups[name]
        for candidate in row["candidates"]
    )
    total = sum(len(row["candidates"]) for name in names for row in groups[name])
    print(f"candidates without a similarity (kept as scored): {missing} of {total}", file=sys.stderr)
    chosen = {name: groups[name] for name in names}
    chosen["pooled"] = [row for name in names for row in groups[name]]
    results = {
        name: {
            "today's weights": held_out(rows, [(SIMILARITY, RANK)]),
            "weights fitted": held_out(rows, WEIGHTS),
        }
        for name, rows in chosen.items()
    }
    print(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
