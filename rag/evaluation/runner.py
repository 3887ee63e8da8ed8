"""rag.evaluate: run a question set or BEIR folder against an index and aggregate the metrics."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.display import BuildProgressBar, IngestProgressBar, ProgressBar
from rag.embedding import Embedder
from rag.evaluation.datasets import (
    EvalDataError,
    Question,
    is_beir_folder,
    load_beir_queries,
    load_questions,
    open_corpus_index,
)
from rag.evaluation.metrics import source_matches
from rag.evaluation.scoring import (
    BEIR_DEPTH,
    QuestionResult,
    aggregate,
    beir_row,
    by_kind,
    curves,
    question_row,
)
from rag.knowledge_base import KnowledgeBase, open_index
from rag.settings import Settings

PACKAGES = ("numpy", "faiss-cpu", "onnxruntime", "sentence-transformers", "torch", "transformers")

ProgressFunction = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and how: a dataset, where its index comes from, and run options."""

    dataset: Path
    index: Path | str | None = None  # evaluate this index (a folder or a postgresql:// URL) as it is...
    corpus: Path | None = None  # ...or index this folder / corpus.jsonl first (cached by content)
    k: int | None = None  # passages per answer (Settings.top_k)
    mode: str | None = None  # retrieval mode
    answer_mode: str | None = None
    limit: int | None = None  # only the first N questions (after shuffling)
    seed: int | None = None  # shuffle the questions with this seed first
    split: str = "test"  # BEIR qrels split
    corpus_include: tuple[str, ...] = ()  # glob patterns of corpus documents to index
    missing_sources_unanswerable: bool = False  # the honest refusal split
    settings: Settings | None = None  # None: Settings.from_env()
    cache_dir: Path | None = None  # where corpus indexes are cached

    def options(self) -> dict[str, Any]:
        """The per-run options, as results.json records them."""
        return {
            "k": self.k,
            "mode": self.mode,
            "answer_mode": self.answer_mode,
            "limit": self.limit,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class EvalResult:
    """A finished evaluation: what ran, where, the per-question rows and their aggregates."""

    config: EvalConfig
    kind: str  # "questions" | "beir"
    index: Path | str  # a folder, or a database URL without its password
    settings: dict[str, Any]
    index_stats: dict[str, Any]
    environment: dict[str, Any]
    seconds: float
    aggregates: dict[str, float]
    curves: dict[str, dict[str, float]]
    rows: tuple[QuestionResult, ...]
    kinds: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)  # aggregates per kind

    def to_dict(self) -> dict[str, Any]:
        """The results.json document."""
        is_beir = self.kind == "beir"
        return {
            "kind": self.kind,
            "dataset": str(self.config.dataset),
            "split": self.config.split if is_beir else None,
            "index": str(self.index),
            "corpus": str(self.config.corpus) if self.config.corpus is not None else None,
            "corpus_include": list(self.config.corpus_include),
            "options": self.config.options(),
            "settings": self.settings,
            "index_stats": self.index_stats,
            "environment": self.environment,
            "seconds": self.seconds,
            "aggregates": self.aggregates,
            "by_kind": self.kinds,
            "curves": self.curves,
            "rows": [row.to_dict() for row in self.rows],
        }


def evaluate(
    config: EvalConfig, embedder: Embedder | None = None, progress: ProgressFunction | bool = False
) -> EvalResult:
    """Evaluate a question set (JSONL) or BEIR folder against an index; progress=True draws a bar."""
    started = time.perf_counter()
    dataset = Path(config.dataset)
    is_beir = is_beir_folder(dataset)
    questions = load_beir_queries(dataset, config.split) if is_beir else load_questions(dataset)
    if is_beir and config.index is None and config.corpus is None:
        config = dataclasses.replace(config, corpus=dataset / "corpus.jsonl")
    if config.index is None and config.corpus is None:
        raise EvalDataError("give an index (--index DIR) or a corpus to index (--corpus PATH)")
    changes = {"top_k": config.k, "retrieval_mode": config.mode, "answer_mode": config.answer_mode}
    settings = (config.settings or Settings.from_env()).replace(
        **{n: v for n, v in changes.items() if v is not None}
    )
    if is_beir:
        settings = settings.replace(candidates=max(settings.candidates, BEIR_DEPTH))
    if config.corpus is not None:
        ingest_bar = IngestProgressBar() if progress else None
        base = open_corpus_index(
            Path(config.corpus), settings, embedder, config.corpus_include, config.cache_dir, ingest_bar
        )
    else:
        base = open_index(config.index, settings, embedder)
    with base:
        if base.store.counts()[0] == 0:
            raise EvalDataError(f"the index {base.location} is empty: ingest documents or pass --corpus PATH")
        # A PostgreSQL index's follower is built before the first question, whose latency it would
        # otherwise count (45.5 s at a million chunks on a machine without a saved copy); a lexical
        # search reads no vector.
        if base.settings.retrieval_mode != "lexical":
            shown = progress and base.url is not None
            with BuildProgressBar() if shown else contextlib.nullcontext() as building:
                base.follow_database(building)
        if config.missing_sources_unanswerable:
            questions = mark_missing_sources(questions, base)
        questions = choose(questions, config.limit, config.seed)
        report = _progress_function(progress)
        rows = []
        for done, question in enumerate(questions, start=1):
            rows.append(beir_row(base, question) if is_beir else question_row(base, question))
            report(done, len(questions))
        return EvalResult(
            config=config,
            kind="beir" if is_beir else "questions",
            index=base.folder if base.url is None else base.location,
            settings=public_settings(base.settings),
            index_stats=base.stats(),
            environment=environment(),
            seconds=round(time.perf_counter() - started, 2),
            aggregates=aggregate(rows),
            curves=curves(rows),
            rows=tuple(rows),
            kinds=by_kind(rows),
        )


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
    return ProgressBar("questions") if progress else (lambda done, total: None)
