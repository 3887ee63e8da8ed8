"""python -m eval.ask_profile: where the time of an in-process ask goes (cProfile over the seeds).

The seeds corpus is indexed with the real model (or --index names one), every question of the
seeds set is asked once to warm up, then --asks questions are asked under cProfile. Prints the
wall time per ask and the functions that take the most time of their own, grouped by the area
of the code they are in (the model, FAISS, SQLite, our Python).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import rag
from eval.serve_load import index_seeds, questions

# Where a function's own time is counted, by the path of its file (the first that matches).
AREAS = (
    ("onnxruntime", "embedding model (ONNX Runtime)"),
    ("tokenizers", "tokenizer"),
    ("faiss", "FAISS"),
    ("sqlite3", "SQLite"),
    ("/rag/", "Verbatim's Python"),
    ("numpy", "numpy"),
)


def area_of(filename: str, function: str) -> str:
    """The area a profiled function belongs to."""
    for marker, area in AREAS:
        if marker in filename or marker in function:
            return area
    return "other (Python library, built-ins)"


def profile(folder: Path, asks: int) -> tuple[float, pstats.Stats]:
    """(ms per ask, the profile) of `asks` asks over folder, after one warm-up pass."""
    asked = questions()
    with rag.open(folder) as base:
        for question in asked:
            base.ask(question)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for number in range(asks):
            base.ask(asked[number % len(asked)])
        profiler.disable()
        per_ask = (time.perf_counter() - started) * 1000 / asks
    return per_ask, pstats.Stats(profiler)


def report(per_ask: float, stats: pstats.Stats, asks: int, top: int) -> str:
    """The areas' shares and the functions with the most time of their own, as text."""
    areas: dict[str, float] = defaultdict(float)
    rows = []
    for (filename, line, function), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        areas[area_of(filename, function)] += own
        rows.append((own, calls, f"{Path(filename).name}:{line} {function}"))
    total = sum(areas.values())
    lines = [f"{per_ask:.2f} ms per ask (wall, under the profiler), {asks} asks", "", "own time by area:"]
    lines += [
        f"  {seconds * 1000 / asks:6.2f} ms/ask  {seconds / total:5.1%}  {area}"
        for area, seconds in sorted(areas.items(), key=lambda item: -item[1])
    ]
    lines += ["", f"top {top} functions by own time:"]
    lines += [
        f"  {own * 1000 / asks:6.3f} ms/ask  {calls / asks:8.1f} calls/ask  {where}"
        for own, calls, where in sorted(rows, reverse=True)[:top]
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the asks and print where their time goes."""
    parser = argparse.ArgumentParser(prog="python -m eval.ask_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index", type=Path, default=None, help="an index to ask (default: the seeds, indexed now)"
    )
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    folder = args.index or index_seeds(Path(tempfile.mkdtemp(prefix="verbatim-ask-profile-")))
    per_ask, stats = profile(folder, args.asks)
    print(report(per_ask, stats, args.asks, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
