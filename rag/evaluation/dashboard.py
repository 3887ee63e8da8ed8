"""The quality dashboard's numbers: what was asked, how it went, what people said, how evaluations moved.

Read from the question log and the feedback of one or more indexes (the served collections of
`rag serve --ui` together), and from the results.json files of `rag eval --out` runs. The UI's
Quality tab and `rag report` show the same numbers (dashboard_page.py draws them).
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.evaluation.feedback import summary
from rag.knowledge_base import KnowledgeBase
from rag.storage.question_log import AskedQuestion

# The evaluation metrics followed over time, where a run has them (all fractions, higher is better).
HISTORY_METRICS = ("answer_contains", "answered_rate", "citation_in_source", "quote_validity", "hit@5")
MAX_RUNS = 200  # the newest results.json files read from the run folders
NEVER_CITED_SHOWN = 50


def quality_dashboard(
    bases: Sequence[KnowledgeBase], runs: Sequence[Path] = (), since: str = "", top: int = 10
) -> dict[str, Any]:
    """Every number the dashboard shows, JSON-ready: questions per day, answered share, feedback
    rates, the slowest questions, the most and never cited documents, the evaluation history.

    Index folders and PostgreSQL indexes alike: each keeps its own log and feedback.
    """
    logs = [base.question_statistics(since, top) for base in bases]
    by_day: dict[str, Counter[str]] = {}
    channels: Counter[str] = Counter()
    cited: Counter[str] = Counter()
    for log in logs:
        for day, counts in log.by_day.items():
            by_day.setdefault(day, Counter()).update(counts)
        channels.update(log.channels)
        cited.update(log.cited)
    latencies = list(heapq.merge(*(log.latencies_ms for log in logs)))
    questions = len(latencies)
    answered = sum(counts["answered"] for counts in by_day.values())
    slowest = sorted((asked for log in logs for asked in log.slowest), key=_latency)[:top]
    documents = sorted({info.source for base in bases for info in base.documents()})
    feedback = _merged_feedback(bases, since)
    rated = feedback["helpful"] + feedback["not_helpful"]
    return {
        "since": since,
        "indexes": [base.location for base in bases],
        "questions": questions,
        "answered": answered,
        "refused": questions - answered,
        "answered_share": round(answered / questions, 4) if questions else None,
        "median_latency_ms": latencies[questions // 2] if latencies else None,
        "questions_by_day": {day: dict(counts) for day, counts in sorted(by_day.items())},
        "channels": dict(channels.most_common()),
        "feedback": feedback,
        # Of the questions asked, how many got a rating, and how many ratings were thumbs up.
        "feedback_rate": round(rated / questions, 4) if questions else None,
        "slowest_questions": [_slow(question) for question in slowest],
        "most_cited_documents": [
            {"source": source, "questions": count} for source, count in cited.most_common(top)
        ],
        "documents": len(documents),
        "never_cited_count": sum(source not in cited for source in documents),
        "never_cited_documents": [source for source in documents if source not in cited][:NEVER_CITED_SHOWN],
        "eval_runs": eval_history(runs),
    }


def _merged_feedback(bases: Sequence[KnowledgeBase], since: str) -> dict[str, Any]:
    """The feedback summaries of the bases added up (ratings by day, flags, corrections)."""
    parts = [summary(base, since) for base in bases]
    totals = {name: sum(part[name] for part in parts) for name in ("feedback", "helpful", "not_helpful")}
    totals |= {name: sum(part[name] for part in parts) for name in ("unrated", "corrected")}
    by_day: dict[str, Counter[str]] = {}
    for part in parts:
        for day, counts in part["by_day"].items():
            by_day.setdefault(day, Counter()).update(counts)
    rated = totals["helpful"] + totals["not_helpful"]
    flagged: Counter[str] = Counter()
    for part in parts:
        flagged.update({item["source"]: item["flags"] for item in part["most_flagged_documents"]})
    return totals | {
        "helpful_share": round(totals["helpful"] / rated, 4) if rated else None,
        "by_day": {day: dict(counts) for day, counts in sorted(by_day.items())},
        "most_flagged_documents": [{"source": s, "flags": n} for s, n in flagged.most_common(10)],
        "stale_citations": [item for part in parts for item in part["stale_citations"]],
    }


def _latency(question: AskedQuestion) -> float:
    return -question.latency_ms


def _slow(question: AskedQuestion) -> dict[str, Any]:
    return {
        "question": question.question,
        "latency_ms": question.latency_ms,
        "asked_at": question.asked_at,
        "answered": question.answered,
        "channel": question.channel,
    }


def eval_history(folders: Sequence[Path]) -> list[dict[str, Any]]:
    """The `rag eval --out` runs under these folders (their results.json files), oldest first:
    when each finished, its dataset, question count and the HISTORY_METRICS it has."""
    found: list[tuple[str, dict[str, Any]]] = []
    paths = sorted({path for folder in folders for path in _results_files(folder)})
    for path in paths[-MAX_RUNS:]:
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            finished = str(results["environment"]["finished_at"])
            aggregates = results["aggregates"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a results.json of `rag eval --out`
        metrics = {name: aggregates[name] for name in HISTORY_METRICS if _is_number(aggregates.get(name))}
        run = {
            "path": str(path),
            "finished_at": finished,
            "dataset": Path(str(results.get("dataset", ""))).name,
            "questions": len(results.get("rows") or ()),
            "metrics": metrics,
        }
        found.append((finished, run))
    return [run for _, run in sorted(found, key=lambda item: item[0])]


def _results_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder] if folder.name == "results.json" else []
    return list(folder.rglob("results.json")) if folder.is_dir() else []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
