"""python -m eval.paired_difference BEFORE AFTER [METRIC ...]: two runs' results.json compared question by question.

For each metric: its mean over the questions both runs scored, the mean difference with a 95%
bootstrap interval (questions resampled, 10,000 times, seed 0), and how many questions went
worse and better. Besides the per-question metrics of a results.json (hit@1, answer_contains,
ndcg@10, answer_parts...), `answered` is scored on answerable questions (was one answered?) and
`refused` on unanswerable ones (was it refused?).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_METRICS = ("hit@1", "answer_contains", "answered", "refused")
RESAMPLES = 10_000


@dataclass(frozen=True)
class Difference:
    """One metric of two runs over the same questions."""

    metric: str
    questions: int
    before: float
    after: float
    low: float  # the 95% bootstrap interval of the mean difference
    high: float
    worse: int
    better: int

    @property
    def mean(self) -> float:
        """after - before."""
        return self.after - self.before


def question_value(row: dict, metric: str) -> float | None:
    """A question's value of a metric, or None where the metric does not apply to it."""
    if metric in ("answered", "refused") and row.get("answered") is None:
        return None  # a retrieval-only run (BEIR) asks nothing
    if metric == "answered":
        return float(row["answered"]) if row.get("answerable", True) else None
    if metric == "refused":
        return None if row.get("answerable", True) else float(not row["answered"])
    value = row.get(metric)
    return None if value is None else float(value)


def paired(before: Sequence[dict], after: Sequence[dict], metric: str, seed: int = 0) -> Difference | None:
    """The paired difference of a metric over the questions (by id) both runs hold; None if none."""
    later = {row["id"]: row for row in after}
    pairs = []
    for row in before:
        if row["id"] in later:
            values = (question_value(row, metric), question_value(later[row["id"]], metric))
            if values[0] is not None and values[1] is not None:
                pairs.append(values)
    if not pairs:
        return None
    scores = np.array(pairs)
    changes = scores[:, 1] - scores[:, 0]
    samples = np.random.default_rng(seed).integers(0, len(changes), (RESAMPLES, len(changes)))
    low, high = np.percentile(changes[samples].mean(axis=1), [2.5, 97.5])
    return Difference(
        metric,
        len(changes),
        float(scores[:, 0].mean()),
        float(scores[:, 1].mean()),
        float(low),
        float(high),
        int((changes < 0).sum()),
        int((changes > 0).sum()),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.paired_difference", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("before", type=Path, help="results.json of the first run (or its folder)")
    parser.add_argument("after", type=Path, help="results.json of the second run (or its folder)")
    parser.add_argument("metrics", nargs="*", default=list(DEFAULT_METRICS))
    args = parser.parse_args(argv)
    runs = []
    for path in (args.before, args.after):
        path = path / "results.json" if path.is_dir() else path
        if not path.is_file():
            parser.error(f"{path} does not exist: give a results.json that python -m eval wrote")
        runs.append(json.loads(path.read_text(encoding="utf-8"))["rows"])
    for metric in args.metrics:
        found = paired(runs[0], runs[1], metric)
        if found is None:
            print(f"{metric}: no question has it in both runs")
            continue
        print(
            f"{metric}: {found.questions} questions, {found.before:.3f} -> {found.after:.3f}, "
            f"difference {found.mean:+.4f} [{found.low:+.4f}, {found.high:+.4f}], "
            f"{found.worse} worse, {found.better} better"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
