"""rag.evaluate: run a question set or BEIR folder against an index and aggregate the metrics."""

from __future__ import annotations

import contextlib
import dataclasses
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
from rag.evaluation import (
    answer_contains,
    best_token_f1,
    dedupe,
    hit_at_k,
    latency_summary,
    matches_any,
    mean,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    refusal_scores,
    source_matches,
)
from rag.knowledge_base import KnowledgeBase, open_index
from rag.progress import ProgressLine
from rag.settings import Settings

QUESTION_DEPTH = 20  # passages searched per question for the retrieval metrics
BEIR_DEPTH = 300  # chunks searched per BEIR query, so ~100 distinct documents remain for Recall@100
CURVE_KS = (1, 2, 3, 5, 10, 20, 50, 100)
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


def question_row(base: KnowledgeBase, question: Question) -> dict[str, Any]:
    """Search and ask one question; retrieval, answer, citation and timing results."""
    start = time.perf_counter()
    passages = base.search(question.question, k=max(QUESTION_DEPTH, base.settings.top_k))
    searched = time.perf_counter()
    answer = base.ask(question.question)
    asked = time.perf_counter()
    ranked = dedupe(passage.source for passage in passages)
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answerable": question.answerable,
        "sources": list(question.sources),
        "answers": list(question.answers),
        "retrieved": ranked[:10],
        "ranked": ranked,
        "answered": answer.answered,
        "answer": answer.text,
        "search_ms": round((searched - start) * 1000, 2),
        "ask_ms": round((asked - searched) * 1000, 2),
    }
    if question.answerable and question.sources:
        named = [next((n for n in question.sources if source_matches(n, s)), s) for s in ranked]
        row.update(retrieval_metrics(named, {name: 1.0 for name in question.sources}))
    references = [*question.answers, question.reference_answer]
    if question.answerable and any(references):
        row["answer_contains"] = answer_contains(answer.text, question.answers) if question.answers else None
        row["answer_f1"] = best_token_f1(answer.text, references)
    row["citations"] = [citation_row(base, citation, question) for citation in answer.citations]
    row["outcome"] = outcome(row)
    return row


def beir_row(base: KnowledgeBase, question: Question) -> dict[str, Any]:
    """Document-level retrieval for one BEIR query: a document ranks by its best chunk."""
    start = time.perf_counter()
    passages = base.search(question.question, k=BEIR_DEPTH)
    elapsed = round((time.perf_counter() - start) * 1000, 2)
    ranked = dedupe(passage.source for passage in passages)
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "sources": list(question.sources),
    }
    row |= {"retrieved": ranked[:10], "ranked": ranked, "search_ms": elapsed}
    row |= retrieval_metrics(ranked, question.relevance)
    row["outcome"] = "hit" if row["hit@1"] else ("top10" if row["mrr@10"] else "miss")
    return row


def retrieval_metrics(ranked: list[str], relevance: dict[str, float]) -> dict[str, float]:
    """hit@1/5, mrr@10, ndcg@10, recall@10/100 of a document ranking."""
    relevant = [name for name, grade in relevance.items() if grade > 0]
    return {
        "hit@1": hit_at_k(ranked, relevant, 1),
        "hit@5": hit_at_k(ranked, relevant, 5),
        "mrr@10": reciprocal_rank(ranked, relevant, 10),
        "ndcg@10": ndcg_at_k(ranked, relevance, 10),
        "recall@10": recall_at_k(ranked, relevant, 10),
        "recall@100": recall_at_k(ranked, relevant, 100),
    }


def citation_row(base: KnowledgeBase, citation: Any, question: Question) -> dict[str, Any]:
    """One citation: its quote, whether it is verbatim, from an expected source, holding an answer."""
    stored = base.document(citation.quote.document_id).text[citation.start : citation.end]
    return {
        "source": citation.source,
        "start": citation.start,
        "end": citation.end,
        "quote": citation.quote.text,
        "valid": stored == citation.quote.text,
        "in_source": matches_any(question.sources, citation.source) if question.sources else None,
        "contains_answer": bool(answer_contains(citation.quote.text, question.answers))
        if question.answers
        else None,
    }


def outcome(row: dict[str, Any]) -> str:
    """A label for the per-question outcome plot."""
    if not row["answerable"]:
        return "refused (correct)" if not row["answered"] else "answered (should refuse)"
    if not row["answered"]:
        return "refused (wrongly)"
    good = row.get("answer_contains")
    if good is None:
        good = any(citation["in_source"] for citation in row["citations"])
    return "correct" if good else "answered, not found in answer"


def aggregate(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Mean of each per-row metric, pooled citation shares, refusal scores and latency percentiles."""
    values: dict[str, float | None] = {}
    for name in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@10", "recall@100"):
        values[name] = mean(row.get(name) for row in rows)
    for name in ("answer_contains", "answer_f1"):
        values[name] = mean(row.get(name) for row in rows)
    citations = [citation for row in rows if row.get("answerable") for citation in row.get("citations", [])]
    values["citation_in_source"] = mean(
        float(c["in_source"]) for c in citations if c["in_source"] is not None
    )
    values["citation_contains_answer"] = mean(
        float(c["contains_answer"]) for c in citations if c["contains_answer"] is not None
    )
    every_citation = [citation for row in rows for citation in row.get("citations", [])]
    values["quote_validity"] = mean(float(citation["valid"]) for citation in every_citation)
    if rows and "answered" in rows[0]:
        refused = [not row["answered"] for row in rows]
        values |= refusal_scores(refused, [row["answerable"] for row in rows])
        answerable = [row for row in rows if row["answerable"]]
        values["answered_rate"] = mean(float(row["answered"]) for row in answerable)
    values |= latency_summary("search", [row["search_ms"] for row in rows])
    values |= latency_summary("ask", [row["ask_ms"] for row in rows if "ask_ms" in row])
    return {name: round(value, 4) for name, value in values.items() if value is not None}


def curves(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """hit@k and recall@k by k over the rows with retrieval metrics, for the 'metric by k' plot."""
    scored = [row for row in rows if "hit@1" in row]
    depth = max((len(row["ranked"]) for row in scored), default=0)
    ks = [k for k in CURVE_KS if k <= max(depth, 1)]
    result: dict[str, dict[str, float]] = {"hit@k": {}, "recall@k": {}}
    for k in ks:
        named = [(row["ranked"], row["sources"]) for row in scored]
        result["hit@k"][str(k)] = round(mean(hit_at_k(r, s, k) for r, s in named) or 0.0, 4)
        result["recall@k"][str(k)] = round(mean(recall_at_k(r, s, k) for r, s in named) or 0.0, 4)
    return result


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
    import os

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
