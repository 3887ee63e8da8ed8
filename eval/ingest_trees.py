"""python -m eval.ingest_trees OLD_TREE [--documents N] [--rounds R]: ingest speed of two source trees.

Whole `rag ingest` processes on the first N SciFact abstracts (one .txt file each), this tree
against another checkout (say `git archive COMMIT | tar -x -C /tmp/old`), alternating which goes
first each round so that a busy machine slows both alike. Prints each run's seconds, peak RSS
and the load average at its start, then the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from eval.speed import measured, write_abstracts

THIS_TREE = Path(__file__).resolve().parent.parent


def compare(old_tree: Path, documents: int, rounds: int, work: Path) -> dict[str, list[dict[str, float]]]:
    """Each tree's runs: {"old": [...], "new": [...]}, each run its seconds, peak RSS and load."""
    docs = work / "docs"
    write_abstracts(docs, documents)
    trees = {"old": old_tree, "new": THIS_TREE}
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for round_number in range(rounds):
        for name in ("old", "new") if round_number % 2 == 0 else ("new", "old"):
            index = work / f"index-{name}"
            shutil.rmtree(index, ignore_errors=True)
            os.environ["PYTHONPATH"] = str(trees[name])  # measured() passes os.environ on
            load = round(os.getloadavg()[0], 1)
            command = [sys.executable, "-m", "rag", "ingest", str(docs), "--index", str(index), "--json"]
            run = measured(command, work) | {"load": load}
            runs[name].append(run)
            print(f"{name}: {run}", flush=True)
    return runs


def main() -> None:
    """Parse the arguments, compare the trees, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_tree", type=Path)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-trees-") as work:
        runs = compare(args.old_tree.resolve(), args.documents, args.rounds, Path(work))
    for name, measured_runs in runs.items():
        seconds = statistics.median(run["seconds"] for run in measured_runs)
        print(f"{name}: median {seconds:.1f} s over {len(measured_runs)} runs")


if __name__ == "__main__":
    main()
