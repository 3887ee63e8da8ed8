"""python -m eval.cold_start: CPU and wall seconds of `rag ask` as a whole process, two source trees.

Each run is a fresh `python -m rag ask QUESTION --index INDEX` (import, open, embed, search,
answer, print), after one unmeasured run per tree that writes its bytecode cache. CPU seconds (user + sys, read from `wait4` for that process alone) hold up on a
busy machine where wall seconds do not. With --old-tree (a checkout, e.g. made by `git archive
COMMIT | tar -x -C DIR`), the old tree and this one run alternately, so that load slows both alike.

    python -m eval.cold_start --index IDX --old-tree /tmp/old --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
QUESTION = "Who is Russia trying to bring to the negotiating table?"
ENV = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def child_environment(tree: Path) -> dict[str, str]:
    """The environment of a run from `tree`: bytecode cached as an installed package has it (with
    PYTHONDONTWRITEBYTECODE set, every run would compile each module from source, a quarter second)."""
    environment = os.environ | ENV | {"PYTHONPATH": str(tree)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def run_once(tree: Path, index: Path, question: str) -> dict[str, float]:
    """CPU and wall seconds of one `rag ask` run from `tree`; fails loudly."""
    command = [sys.executable, "-m", "rag", "ask", question, "--index", str(index)]
    environment = child_environment(tree)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode:
        raise RuntimeError(f"rag ask from {tree} failed:\n{errors[-2000:]}")
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall}


def measure(trees: dict[str, Path], index: Path, question: str, runs: int) -> dict[str, object]:
    """Medians per tree over `runs` alternating rounds, with the load average before and after."""
    load_before = os.getloadavg()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for tree in trees.values():
        run_once(tree, index, question)  # writes the bytecode cache, warms the page cache
    for _ in range(runs):
        for name, tree in trees.items():
            samples[name].append(run_once(tree, index, question))
    return {
        "runs": runs,
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "median": {
            name: {
                key: round(statistics.median(run[key] for run in runs_of), 3) for key in ("cpu_s", "wall_s")
            }
            for name, runs_of in samples.items()
        },
        "samples": {
            name: [{key: round(value, 3) for key, value in run.items()} for run in runs_of]
            for name, runs_of in samples.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the medians as JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--index", type=Path, required=True, help="an index folder (e.g. of the seeds corpus)"
    )
    parser.add_argument("--old-tree", type=Path, help="a source tree to compare against, run alternately")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    trees = {"this": HERE} | ({"old": args.old_tree.resolve()} if args.old_tree else {})
    results = measure(trees, args.index, args.question, args.runs)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
