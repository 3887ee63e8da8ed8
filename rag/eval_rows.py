"""Scoring of one evaluated question (a row) and the aggregates over all rows."""

from __future__ import annotations

import time
from typing import Any

from rag.eval_data import Question
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
from rag.knowledge_base import KnowledgeBase
from rag.models import Citation

QUESTION_DEPTH = 20  # passages searched per question for the retrieval metrics
BEIR_DEPTH = 300  # chunks searched per BEIR query, so ~100 distinct documents remain for Recall@100
CURVE_KS = (1, 2, 3, 5, 10, 20, 50, 100)


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


def citation_row(base: KnowledgeBase, citation: Citation, question: Question) -> dict[str, Any]:
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
