"""python -m eval.bench: ingest throughput, memory, index size, cold start, latency; the vector index at scale.

Writes results.json and report.md into --out (default .verbatim/bench). A benchmark, not a test:
the full SciFact corpus takes several minutes on two cores; the scale part (eval/scale.py) uses
its real vectors, and 1M vectors are behind --scale 1000000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rag
from eval import scale, speed
from eval.presets import DATASETS
from eval.serve_load import compare_processes
from rag.evaluation import read_beir_corpus


def read_queries(path: Path, count: int) -> list[str]:
    """The first `count` query texts of a BEIR queries.jsonl."""
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line)["text"] for line, _ in zip(stream, range(count), strict=False)]


def bench_corpus(corpus: Path, limit: int | None, query_count: int, work: Path) -> dict[str, Any]:
    """Ingest the corpus into a fresh index, then time search, ask and a cold-start answer."""
    items = read_beir_corpus(corpus)[:limit]
    text_bytes = sum(len(item.text.encode("utf-8")) for item in items)
    started = time.perf_counter()
    embedder = rag.make_embedder(rag.DEFAULT_MODEL)
    embedder.embed(["load the model"])
    model_seconds = time.perf_counter() - started
    folder = work / "index"
    with rag.open(folder, embedder=embedder) as base:
        report = base.add_texts(items)
        seconds = report.seconds
        stats = base.stats()
        queries = read_queries(corpus.parent / "queries.jsonl", query_count)
        search, ask = speed.search_and_ask_latency(base, queries)
    return {
        "corpus": str(corpus),
        "documents": len(items),
        "chunks": report.chunks_embedded,
        "text_mb": round(text_bytes / 1e6, 2),
        "model_load_s": round(model_seconds, 2),
        "ingest_s": round(seconds, 1),
        "documents_per_s": round(len(items) / seconds, 1),
        "chunks_per_s": round(report.chunks_embedded / seconds, 1),
        "mb_per_s": round(text_bytes / 1e6 / seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "index_size_mb": round(stats["size_bytes"] / 1e6, 1),
        "vector_index": stats["vector_index"],
        "queries": len(queries),
        "search": search,
        "ask": ask,
        "cold_start": cold_start(folder, queries[0]),
    }


def cold_start(folder: Path, question: str, runs: int = 2) -> dict[str, float]:
    """Seconds from starting `python -m rag ask` to its printed answer (process start included)."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rag", "ask", question, "--index", str(folder), "--json"],
            check=True,
            capture_output=True,
            env=os.environ | {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
        )
        timings.append(time.perf_counter() - start)
    return {"best_s": round(min(timings), 2), "worst_s": round(max(timings), 2)}


def markdown(results: dict[str, Any]) -> str:
    """A short report of the benchmark tables."""
    lines = ["# Benchmark", "", f"{results['environment']}", ""]
    if results.get("peer"):
        lines += [speed.markdown(results["peer"])]
    corpus = results.get("corpus")
    if corpus:
        lines += ["## Ingest and query (real corpus)", "", "| measure | value |", "|---|---:|"]
        for key, value in corpus.items():
            shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
            lines.append(f"| {key} | {shown} |")
        lines.append("")
    if results.get("serve_load"):
        runs = results["serve_load"]
        lines += ["## rag serve under load (seeds, concurrent chat completions)", ""]
        heads = [f"{run['processes']} proc., round {run['round']}" for run in runs]
        lines += [f"| measure | {' | '.join(heads)} |", "|---|" + "---:|" * len(runs)]
        lines += [f"| {key} | {' | '.join(str(run[key]) for run in runs)} |" for key in runs[0]]
        lines.append("")
    if results.get("scale"):
        lines.append(scale.markdown(results["scale"]))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and write results.json and report.md."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DATASETS / "scifact-train" / "corpus.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="ingest only the first N documents")
    parser.add_argument("--queries", type=int, default=50, help="queries timed for search and ask")
    parser.add_argument(
        "--scale",
        type=int,
        nargs="+",
        default=list(scale.DEFAULT_SIZES),
        metavar="N",
        help="vector index sizes to measure (1000000 adds a million: about half an hour)",
    )
    parser.add_argument(
        "--real-index", type=Path, default=None, help="real-model index for --scale (default: the corpus's)"
    )
    parser.add_argument(
        "--serve-load", type=int, default=0, metavar="N", help="N concurrent chat requests to rag serve"
    )
    parser.add_argument(
        "--processes",
        default="1,2",
        metavar="N,M",
        help="the load run serves with `rag serve --processes` each of these, side by side (default 1,2)",
    )
    parser.add_argument(
        "--serve-rounds", type=int, default=1, help="load runs per process count, alternating"
    )
    parser.add_argument(
        "--serve-index",
        default=None,
        metavar="URL",
        help="serve the load run's seeds from this PostgreSQL database (default: an index folder)",
    )
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-peer", action="store_true", help="skip the LangChain comparison (issue 9)")
    parser.add_argument("--peer-documents", type=int, default=1000, help="SciFact abstracts both ingest")
    parser.add_argument("--peer-repeats", type=int, default=1, help="ingest rounds per pipeline")
    parser.add_argument("--latency-questions", type=int, default=200, help="xquad-dev questions timed")
    parser.add_argument("--peer-venv", type=Path, default=Path(".verbatim/peer-venv"))
    parser.add_argument("--skip-quality", action="store_true", help="skip SciFact nDCG@10 per backend")
    parser.add_argument("--out", type=Path, default=Path(".verbatim/bench"))
    args = parser.parse_args(argv)
    if not all(count.strip().isdigit() and int(count) >= 1 for count in args.processes.split(",")):
        parser.error("--processes takes process counts separated by commas, e.g. 1,2")
    environment = f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    results: dict[str, Any] = {"environment": environment}
    if not args.skip_peer:
        work = Path(tempfile.mkdtemp(prefix="verbatim-speed-"))
        try:
            results["peer"] = speed.run(
                work,
                args.peer_venv.resolve(),
                args.peer_documents,
                args.peer_repeats,
                args.latency_questions,
                quality=not args.skip_quality,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    try:
        if not args.skip_corpus:
            print(f"ingesting {args.corpus} ...", file=sys.stderr)
            results["corpus"] = bench_corpus(args.corpus, args.limit, args.queries, work)
        if not args.skip_scale:
            real_index = args.real_index or work / "index"
            if not (real_index / "rag.sqlite").is_file():
                parser.error("--skip-corpus with the scale benchmark needs --real-index DIR")
            queries = read_queries(args.corpus.parent / "queries.jsonl", 10**6)
            ray_items = read_beir_corpus(args.corpus)[: scale.RAY_FILES]
            results["scale"] = scale.run(real_index, queries, args.scale, ray_items=ray_items)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.serve_load:
        work = Path(tempfile.mkdtemp(prefix="verbatim-serve-load-"))
        try:
            print(f"rag serve: {args.serve_load} concurrent chat requests ...", file=sys.stderr)
            counts = [int(count) for count in args.processes.split(",")]
            results["serve_load"] = compare_processes(
                args.serve_load, work, counts, args.serve_rounds, args.serve_index
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "report.md").write_text(markdown(results))
    print(markdown(results))
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
