"""rag.evaluate: run a question set or BEIR folder against an index and aggregate the metrics."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from rag.embedding import Embedder
from rag.eval_data import (
    EvalDataError,
    Question,
    is_beir_folder,
    load_beir_queries,
    load_questions,
    open_corpus_index,
)
from rag.eval_rows import BEIR_DEPTH, aggregate, beir_row, curves, question_row
from rag.evaluation import source_matches
from rag.knowledge_base import KnowledgeBase, open_index
from rag.progress import ProgressLine
from rag.settings import Settings

PACKAGES = ("numpy", "faiss-cpu", "sentence-transformers", "torch", "transformers")

ProgressFunction = Callable[[int, int], None]


def evaluate(
    dataset: str | Path,
    index: str | Path | None = None,
    corpus: str | Path | None = None,
    *,
    k: int | None = None,
    mode: str | None = None,
    answer_mode: str | None = None,
    limit: int | None = None,
    seed: int | None = None,
    split: str = "test",
    corpus_include: Sequence[str] = (),
    missing_sources_unanswerable: bool = False,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFunction | bool = False,
) -> dict[str, Any]:
    """Evaluate a question set (JSONL) or BEIR folder; returns settings, rows and `aggregates`."""
    started = time.perf_counter()
    dataset = Path(dataset)
    is_beir = is_beir_folder(dataset)
    questions = load_beir_queries(dataset, split) if is_beir else load_questions(dataset)
    if is_beir and index is None and corpus is None:
        corpus = dataset / "corpus.jsonl"
    if index is None and corpus is None:
        raise EvalDataError("give an index (--index DIR) or a corpus to index (--corpus PATH)")
    changes = {"top_k": k, "retrieval_mode": mode, "answer_mode": answer_mode}
    settings = (settings or Settings.from_env()).replace(
        **{n: v for n, v in changes.items() if v is not None}
    )
    if is_beir:
        settings = settings.replace(candidates=max(settings.candidates, BEIR_DEPTH))
    if corpus is not None:
        line = ProgressLine() if progress else None
        base = open_corpus_index(
            Path(corpus), settings, embedder, corpus_include, Path(cache_dir) if cache_dir else None, line
        )
    else:
        base = open_index(index, settings, embedder)
    with base:
        if base.store.counts()[0] == 0:
            raise EvalDataError(f"the index {base.folder} is empty: ingest documents or pass --corpus PATH")
        if missing_sources_unanswerable:
            questions = mark_missing_sources(questions, base)
        questions = choose(questions, limit, seed)
        report = _progress_function(progress)
        rows = []
        for done, question in enumerate(questions, start=1):
            rows.append(beir_row(base, question) if is_beir else question_row(base, question))
            report(done, len(questions))
        return {
            "kind": "beir" if is_beir else "questions",
            "dataset": str(dataset),
            "split": split if is_beir else None,
            "index": str(base.folder),
            "corpus": str(corpus) if corpus is not None else None,
            "corpus_include": list(corpus_include),
            "options": {"k": k, "mode": mode, "answer_mode": answer_mode, "limit": limit, "seed": seed},
            "settings": public_settings(base.settings),
            "index_stats": base.stats(),
            "environment": environment(),
            "seconds": round(time.perf_counter() - started, 2),
            "aggregates": aggregate(rows),
            "curves": curves(rows),
            "rows": [{key: value for key, value in row.items() if key != "ranked"} for row in rows],
        }


def mark_missing_sources(questions: list[Question], base: KnowledgeBase) -> list[Question]:
    """Questions whose expected sources are all absent from the index become unanswerable."""
    stored = [info.source for info in base.documents()]

    def present(question: Question) -> bool:
        return any(source_matches(name, source) for name in question.sources for source in stored)

    return [q if not q.sources or present(q) else dataclasses.replace(q, answerable=False) for q in questions]


def choose(questions: list[Question], limit: int | None, seed: int | None) -> list[Question]:
    """The questions to run: shuffled when a seed is given, then the first `limit`."""
    if seed is not None:
        questions = questions[:]
        random.Random(seed).shuffle(questions)
    return questions[:limit] if limit else questions


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings of the run, without secrets."""
    values = dataclasses.asdict(settings)
    values["llm_api_key"] = "***" if values.get("llm_api_key") else ""
    return values


def environment() -> dict[str, Any]:
    """Where the run happened: versions, machine, time and git commit."""
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit: str | None = None
    with contextlib.suppress(OSError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": _cpu_count(),
        "packages": versions,
        "git_commit": commit or None,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _cpu_count() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _progress_function(progress: ProgressFunction | bool) -> ProgressFunction:
    if callable(progress):
        return progress
    return QuestionProgress() if progress else (lambda done, total: None)


class QuestionProgress:
    """A progress bar with rate and ETA on stderr, redrawn in place on a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now, terminal = time.monotonic(), self.stream.isatty()
        if done < total and now - self.last_draw < (0.2 if terminal else 10.0):
            return
        self.last_draw = now
        rate = done / max(now - self.started, 1e-6)
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "-" * (self.width - filled)
        eta = (total - done) / rate if rate else 0.0
        text = f"[{bar}] {done}/{total} questions  {rate:.1f}/s  ETA {eta:.0f}s"
        end = "\n" if done >= total or not terminal else ""
        self.stream.write(("\r\033[K" if terminal else "") + text + end)
        self.stream.flush()
