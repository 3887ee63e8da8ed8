"""`rag copy` there and back: a folder index into PostgreSQL and out into a new folder, with
`rag check` on both copies and every question evaluated on all three.

    python -m eval.copy_round_trip                                   # the seeds and their questions
    python -m eval.copy_round_trip --data ../shared/datasets/scifact-train --split train
    python -m eval.copy_round_trip --postgres postgresql://user@host:5432/db   # an empty database

The folder is built by `rag eval --corpus` (the default model); the copies are compared with it
question by question: the answer and its quotes (question sets) or the ranked documents (BEIR),
and the aggregates. One run; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import rag
from eval.engines import database

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "corpus" / "seeds"
SEED_QUESTIONS = Path(__file__).resolve().parent / "questions" / "seeds.jsonl"
VOLATILE = ("search_ms", "ask_ms")  # timings: the only part of a row allowed to differ


def comparable(result: rag.EvalResult) -> list[object]:
    """Each row without its timings, with its full ranking."""
    return [
        ({key: value for key, value in row.to_dict().items() if key not in VOLATILE}, row.ranked)
        for row in result.rows
    ]


def main(argv: list[str] | None = None) -> None:
    """Build, copy there and back, check, evaluate all three, and print what differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="a BEIR folder (default: the seeds)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--postgres", default=None, help="an empty database (default: start the bundled one)")
    parser.add_argument(
        "--work", type=Path, default=None, help="where the copies go (default: a temp folder)"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="where `rag eval --corpus` keeps the folder it builds"
    )
    args = parser.parse_args(argv)
    dataset, corpus = (
        (SEED_QUESTIONS, SEEDS) if args.data is None else (args.data, args.data / "corpus.jsonl")
    )
    report: dict[str, object] = {"data": str(args.data or SEEDS)}
    with tempfile.TemporaryDirectory(dir=args.work) as work, database(args.postgres) as url:
        started = time.perf_counter()
        original = rag.evaluate(
            rag.EvalConfig(dataset, corpus=corpus, split=args.split, cache_dir=args.cache or Path(work))
        )
        report["build_seconds"] = round(time.perf_counter() - started, 1)
        folder, copied = Path(original.index), Path(work) / "copied"
        results = {"folder": original}
        for name, source, destination in (("to_postgres", folder, url), ("back_to_folder", url, copied)):
            started = time.perf_counter()
            copy = rag.copy_index(source, destination)
            report[name] = {
                "documents": copy.documents,
                "chunks": copy.chunks,
                "seconds": round(time.perf_counter() - started, 1),
            }
        for name, location in (("postgres", url), ("folder_again", copied)):
            with rag.open(location) as base:
                started = time.perf_counter()
                check = base.check()
                report[f"check_{name}"] = {
                    "healthy": check.is_healthy,
                    "problems": check.problems,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            results[name] = rag.evaluate(rag.EvalConfig(dataset, index=location, split=args.split))
        expected = comparable(original)
        for name in ("postgres", "folder_again"):
            found = comparable(results[name])
            report[f"{name}_rows_identical"] = sum(a == b for a, b in zip(found, expected, strict=True))
        report["questions"] = len(expected)
        report["aggregates"] = {
            name: {
                key: round(value, 4) for key, value in result.aggregates.items() if not key.endswith("_ms")
            }
            for name, result in results.items()
        }
        report["search_p50_ms"] = {
            name: result.aggregates.get("search_p50_ms") for name, result in results.items()
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
