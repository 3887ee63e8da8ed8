"""python -m eval.embedders: XQuAD paragraph retrieval and ingest time, one embedding model beside another.

For each model, each corpus (xquad-dev in English, xquad-multilingual-dev in the other languages,
120 paragraphs each) is ingested into a fresh index, timed, and searched with the default hybrid
search for the same sampled questions: in the corpus's own language, and in English over the
other corpora (cross-language). A question hits at k when a paragraph it was written on is
among the first k passages.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import rag
from eval.presets import DATASETS
from rag.evaluation import read_beir_corpus

MODELS = ("all-MiniLM-L6-v2", "multilingual-e5-small")


def dataset_folder(language: str) -> Path:
    """Where the questions and corpus of one language are."""
    if language == "en":
        return DATASETS / "xquad-dev"
    return DATASETS / "xquad-multilingual-dev" / language


def read_questions(language: str) -> dict[str, dict]:
    """The questions of one language by id (the ids are shared by the translations)."""
    with (dataset_folder(language) / "questions.jsonl").open(encoding="utf-8") as lines:
        return {row["id"]: row for row in map(json.loads, lines)}


def hits(base: rag.KnowledgeBase, questions: Sequence[dict]) -> dict[str, float]:
    """hit@1 and hit@5 of the hybrid search over these questions."""
    first = five = 0
    for question in questions:
        sources = [passage.source for passage in base.search(question["question"], k=5)]
        first += bool(sources) and sources[0] in question["sources"]
        five += any(source in question["sources"] for source in sources)
    return {"hit@1": first / len(questions), "hit@5": five / len(questions)}


def ask_latency(base: rag.KnowledgeBase, questions: Sequence[str]) -> dict[str, float]:
    """p50 and p95 milliseconds of whole asks (search, scoring, quotes), after one warm-up question."""
    base.ask(questions[0])
    seconds = []
    for question in questions:
        started = time.perf_counter()
        base.ask(question)
        seconds.append(time.perf_counter() - started)
    p50, p95 = np.percentile(seconds, [50, 95])
    return {"ask_p50_ms": 1000 * float(p50), "ask_p95_ms": 1000 * float(p95), "asks": len(seconds)}


def run_model(
    model: str, languages: Sequence[str], ids: Sequence[str], work: Path, threads: int | None, asks: int = 0
) -> dict[str, dict[str, float]]:
    """Ingest each language's corpus with the model, then ask its questions and the English ones."""
    embedder = rag.make_embedder(model, threads=threads)
    embedder.embed(["load the model"])  # loading is not ingest time
    english = read_questions("en")
    rows: dict[str, dict[str, float]] = {}
    for language in languages:
        items = read_beir_corpus(dataset_folder(language) / "corpus.jsonl")
        with rag.open(work / f"{model}-{language}", embedder=embedder) as base:
            started = time.perf_counter()
            base.add_texts(items)
            ingest_seconds = time.perf_counter() - started
            own = read_questions(language)
            rows[f"{language} questions / {language} corpus"] = hits(base, [own[i] for i in ids]) | {
                "ingest_s": ingest_seconds,
                "ingest_s_per_1000": 1000 * ingest_seconds / len(items),
            }
            if language == "en" and asks:
                rows["en ask latency"] = ask_latency(base, [own[i]["question"] for i in ids[:asks]])
            if language != "en":
                rows[f"en questions / {language} corpus"] = hits(base, [english[i] for i in ids])
        print(model, language, json.dumps(rows), file=sys.stderr, flush=True)
    return rows


def alternating_ingest(models: Sequence[str], count: int, rounds: int, threads: int | None) -> list[str]:
    """Seconds per 100 of the first `count` SciFact abstracts ingested into a fresh index, the
    models taking turns (`rounds` times each), every model loaded before the first clock starts."""
    items = read_beir_corpus(DATASETS / "scifact-train" / "corpus.jsonl")[:count]
    embedders = {model: rag.make_embedder(model, threads=threads) for model in models}
    for embedder in embedders.values():
        embedder.embed(["load the model"])
    lines = []
    with tempfile.TemporaryDirectory() as work:
        for turn in range(rounds):
            for model, embedder in embedders.items():
                with rag.open(Path(work) / f"{model}-{turn}", embedder=embedder) as base:
                    started = time.perf_counter()
                    base.add_texts(items)
                    seconds = time.perf_counter() - started
                lines.append(
                    f"{model}: {seconds:.1f} s for {len(items)} abstracts, {100 * seconds / len(items):.1f} s per 100"
                )
                print(lines[-1], file=sys.stderr, flush=True)
    return lines


def alternating_asks(folders: Sequence[Path], questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50 and p95 ms of whole asks on each built index, each question asked of one index after the
    other (so both meet the same load); one warm-up question first. Keyed by the index's model."""
    bases = [rag.open(folder) for folder in folders]
    try:
        for base in bases:
            base.ask(questions[0])
        seconds: list[list[float]] = [[] for _ in bases]
        for question in questions:
            for base, times in zip(bases, seconds, strict=True):
                started = time.perf_counter()
                base.ask(question)
                times.append(time.perf_counter() - started)
        results = {}
        for base, times in zip(bases, seconds, strict=True):
            p50, p95 = np.percentile(times, [50, 95])
            name = f"{base.model_name} ({base.folder.name})"
            results[name] = {
                "ask_p50_ms": 1000 * float(p50),
                "ask_p95_ms": 1000 * float(p95),
                "asks": len(times),
            }
        return results
    finally:
        for base in bases:
            base.close()


def markdown_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """One row per question set and corpus, hit@1 / hit@5 and ingest seconds per model."""
    models = list(results)
    header = " | ".join(f"{model} hit@1 / hit@5 | ingest s per 1,000 passages" for model in models)
    lines = [f"| questions / corpus | {header} |", "|---" * (1 + 2 * len(models)) + "|"]
    for row in results[models[0]]:
        if "hit@1" not in results[models[0]][row]:
            continue
        cells = []
        for model in models:
            scores = results[model][row]
            ingest = f"{scores['ingest_s_per_1000']:.0f}" if "ingest_s" in scores else ""
            cells.append(f"{scores['hit@1']:.3f} / {scores['hit@5']:.3f} | {ingest}")
        lines.append(f"| {row} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every model on the same sampled questions and print the table."""
    parser = argparse.ArgumentParser(prog="python -m eval.embedders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument(
        "--languages", default="en,de,es,ru,zh,ar,hi", help="comma-separated corpus languages"
    )
    parser.add_argument("--asks", type=int, default=50, help="English questions timed as whole asks")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--limit", type=int, default=200, help="questions sampled (the same in every language)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="embedding threads (RAG_THREADS)")
    parser.add_argument(
        "--ask-indexes",
        type=Path,
        nargs="+",
        default=None,
        help="instead: time whole asks on these built indexes, alternating (e.g. a SciFact sample per model)",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="with --ask-indexes: a BEIR queries.jsonl (--limit of them)",
    )
    parser.add_argument(
        "--scifact-ingest",
        type=int,
        default=None,
        help="instead: time the ingest of the first N SciFact abstracts, the models taking turns twice",
    )
    args = parser.parse_args(argv)
    if args.scifact_ingest:
        print("\n".join(alternating_ingest(args.models.split(","), args.scifact_ingest, 2, args.threads)))
        return 0
    if args.ask_indexes:
        if args.questions is None:
            parser.error("--ask-indexes needs --questions (a BEIR queries.jsonl)")
        texts = [
            str(row["text"])
            for row in map(json.loads, args.questions.read_text(encoding="utf-8").splitlines())
        ]
        texts = random.Random(args.seed).sample(texts, min(args.limit, len(texts)))
        print(json.dumps(alternating_asks(args.ask_indexes, texts), indent=2))
        return 0
    ids = sorted(read_questions("en"))
    ids = random.Random(args.seed).sample(ids, min(args.limit, len(ids)))
    languages = args.languages.split(",")
    with tempfile.TemporaryDirectory() as work:
        results = {
            model: run_model(model, languages, ids, Path(work), args.threads, args.asks)
            for model in args.models.split(",")
        }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(markdown_table(results))
    for model, rows in results.items():
        if "en ask latency" in rows:
            print(f"{model}: ask latency on the English corpus {json.dumps(rows['en ask latency'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
