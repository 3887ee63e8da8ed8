"""Scoring of one evaluated question (a row) and the aggregates over all rows."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.answer.question import AskOptions
from rag.evaluation.datasets import Question
from rag.evaluation.metrics import (
    answer_contains,
    best_token_f1,
    dedupe,
    hit_at_k,
    latency_summary,
    matches_any,
    mean,
    ndcg_at_k,
    parts_found,
    recall_at_k,
    reciprocal_rank,
    refusal_scores,
    source_matches,
)
from rag.knowledge_base import KnowledgeBase
from rag.types import Citation

QUESTION_DEPTH = 20  # passages searched per question for the retrieval metrics
BEIR_DEPTH = 300  # chunks searched per BEIR query, so ~100 distinct documents remain for Recall@100
CURVE_KS = (1, 2, 3, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class CitationResult:
    """One citation of an answer: its quote, whether it is verbatim, from an expected source, holding an answer."""

    source: str
    start: int
    end: int
    quote: str
    valid: bool
    in_source: bool | None
    contains_answer: bool | None

    def to_dict(self) -> dict[str, Any]:
        """The citation as it appears in results.json."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class QuestionResult:
    """One evaluated question (a row of results.json); None fields are left out of to_dict()."""

    id: str
    question: str
    sources: tuple[str, ...]
    ranked: tuple[str, ...]  # every retrieved source, best first (not written: it can be long)
    search_ms: float
    outcome: str = ""
    answerable: bool | None = None  # None for BEIR queries, which are retrieval-only
    answers: tuple[str, ...] | None = None
    answered: bool | None = None
    answer: str | None = None
    ask_ms: float | None = None
    retrieval: dict[str, float] = field(default_factory=dict)  # hit@1 ... recall@100
    answer_contains: float | None = None
    answer_f1: float | None = None
    citations: tuple[CitationResult, ...] | None = None
    sentences: int | None = None  # llm mode: sentences of the generated answer...
    unsupported_sentences: int | None = None  # ...and how many no span of the passages supports
    review: str = ""  # asked but not scored: Question.review
    kind: str = ""  # the question set's kind of question, for per-kind aggregates
    answer_parts: float | None = None  # 1.0 when every part has an accepted answer inside a quote
    answer_part_share: float | None = None  # the share of parts that do

    @property
    def retrieved(self) -> tuple[str, ...]:
        """The top ten retrieved sources."""
        return self.ranked[:10]

    def to_dict(self) -> dict[str, Any]:
        """The row as it appears in results.json."""
        row: dict[str, Any] = {"id": self.id, "question": self.question}
        if self.kind:
            row["kind"] = self.kind
        if self.answerable is not None:
            row["answerable"] = self.answerable
        row["sources"] = list(self.sources)
        if self.answers is not None:
            row["answers"] = list(self.answers)
        row["retrieved"] = list(self.retrieved)
        optional = {"answered": self.answered, "answer": self.answer}
        row |= {name: value for name, value in optional.items() if value is not None}
        row["search_ms"] = self.search_ms
        if self.ask_ms is not None:
            row["ask_ms"] = self.ask_ms
        row |= self.retrieval
        scores = {
            "answer_contains": self.answer_contains,
            "answer_f1": self.answer_f1,
            "answer_parts": self.answer_parts,
            "answer_part_share": self.answer_part_share,
        }
        row |= {name: value for name, value in scores.items() if value is not None}
        if self.citations is not None:
            row["citations"] = [citation.to_dict() for citation in self.citations]
        if self.sentences is not None:
            row["sentences"] = self.sentences
            row["unsupported_sentences"] = self.unsupported_sentences
        row["outcome"] = self.outcome
        if self.review:
            row["review"] = self.review
        return row


def question_row(base: KnowledgeBase, question: Question) -> QuestionResult:
    """Search and ask one question; retrieval, answer, citation and timing results."""
    answer = base.ask(question.question, AskOptions(history=question.history, depth=QUESTION_DEPTH))
    ranked = tuple(dedupe(passage.source for passage in answer.passages))
    retrieval: dict[str, float] = {}
    if question.answerable and question.sources:
        named = [next((n for n in question.sources if source_matches(n, s)), s) for s in ranked]
        retrieval = retrieval_metrics(named, {name: 1.0 for name in question.sources})
    references = [*question.answers, question.reference_answer]
    scored = question.answerable and any(references)
    found = parts_found([citation.quote.text for citation in answer.citations], question.answer_parts)
    has_parts = question.answerable and bool(question.answer_parts)
    row = QuestionResult(
        id=question.id,
        question=question.question,
        sources=question.sources,
        ranked=ranked,
        search_ms=answer.timings_ms["retrieve_ms"],
        answerable=question.answerable,
        answers=question.answers,
        answered=answer.answered,
        answer=answer.text,
        ask_ms=answer.timings_ms["total_ms"],
        retrieval=retrieval,
        answer_contains=answer_contains(answer.text, question.answers)
        if scored and question.answers
        else None,
        answer_f1=best_token_f1(answer.text, references) if scored else None,
        citations=tuple(citation_row(base, citation, question) for citation in answer.citations),
        sentences=len(answer.sentences) if answer.sentences else None,
        unsupported_sentences=sum(not item.is_supported for item in answer.sentences)
        if answer.sentences
        else None,
        review=question.review,
        kind=question.kind,
        answer_parts=float(found == len(question.answer_parts)) if has_parts else None,
        answer_part_share=found / len(question.answer_parts) if has_parts else None,
    )
    return dataclasses.replace(row, outcome=outcome(row))


def beir_row(base: KnowledgeBase, question: Question) -> QuestionResult:
    """Document-level retrieval for one BEIR query: a document ranks by its best chunk."""
    start = time.perf_counter()
    passages = base.search(question.question, k=BEIR_DEPTH)
    elapsed = round((time.perf_counter() - start) * 1000, 2)
    ranked = tuple(dedupe(passage.source for passage in passages))
    retrieval = retrieval_metrics(list(ranked), question.relevance)
    verdict = "hit" if retrieval["hit@1"] else ("top10" if retrieval["mrr@10"] else "miss")
    return QuestionResult(
        question.id, question.question, question.sources, ranked, elapsed, verdict, retrieval=retrieval
    )


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


def citation_row(base: KnowledgeBase, citation: Citation, question: Question) -> CitationResult:
    """One citation: its quote, whether it is verbatim, from an expected source, holding an answer."""
    stored = base.document(citation.quote.document_id).text[citation.start : citation.end]
    return CitationResult(
        source=citation.source,
        start=citation.start,
        end=citation.end,
        quote=citation.quote.text,
        valid=stored == citation.quote.text,
        in_source=matches_any(question.sources, citation.source) if question.sources else None,
        contains_answer=bool(answer_contains(citation.quote.text, question.answers))
        if question.answers
        else None,
    )


def outcome(row: QuestionResult) -> str:
    """A label for the per-question outcome plot."""
    if row.review:
        return "to review"
    if not row.answerable:
        return "refused (correct)" if not row.answered else "answered (should refuse)"
    if not row.answered:
        return "refused (wrongly)"
    good = bool(row.answer_contains) if row.answer_contains is not None else None
    if row.answer_parts is not None:
        good = bool(row.answer_parts)
    if good is None:
        good = any(citation.in_source for citation in row.citations or ())
    return "correct" if good else "answered, not found in answer"


def aggregate(rows: Sequence[QuestionResult]) -> dict[str, float]:
    """Mean of each per-row metric, pooled citation shares, refusal scores and latency percentiles.

    Rows to review (Question.review) are counted, not scored.
    """
    values: dict[str, float | None] = {}
    if any(row.review for row in rows):
        values["questions_to_review"] = sum(bool(row.review) for row in rows)
        rows = [row for row in rows if not row.review]
    for name in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@10", "recall@100"):
        values[name] = mean(row.retrieval.get(name) for row in rows)
    values["answer_contains"] = mean(row.answer_contains for row in rows)
    values["answer_f1"] = mean(row.answer_f1 for row in rows)
    values["answer_parts"] = mean(row.answer_parts for row in rows)
    values["answer_part_share"] = mean(row.answer_part_share for row in rows)
    citations = [citation for row in rows if row.answerable for citation in row.citations or ()]
    values["citation_in_source"] = mean(float(c.in_source) for c in citations if c.in_source is not None)
    values["citation_contains_answer"] = mean(
        float(c.contains_answer) for c in citations if c.contains_answer is not None
    )
    # The first quote is the one a reader sees first, and the one an answer box would show.
    values["first_citation_contains_answer"] = mean(
        float(row.citations[0].contains_answer)
        for row in rows
        if row.answerable and row.citations and row.citations[0].contains_answer is not None
    )
    every_citation = [citation for row in rows for citation in row.citations or ()]
    values["quote_validity"] = mean(float(citation.valid) for citation in every_citation)
    asked = [row for row in rows if row.answered is not None]
    if asked:
        refused = [not row.answered for row in asked]
        values |= refusal_scores(refused, [bool(row.answerable) for row in asked])
        values["answered_rate"] = mean(float(bool(row.answered)) for row in asked if row.answerable)
    generated = sum(row.sentences or 0 for row in rows)
    if generated:
        unsupported = sum(row.unsupported_sentences or 0 for row in rows)
        values["unsupported_sentence_share"] = unsupported / generated
    values |= latency_summary("search", [row.search_ms for row in rows])
    values |= latency_summary("ask", [row.ask_ms for row in rows if row.ask_ms is not None])
    return {name: round(value, 4) for name, value in values.items() if value is not None}


def by_kind(rows: Sequence[QuestionResult]) -> dict[str, dict[str, float]]:
    """The aggregates of each kind of question the set names (none when it names no kinds)."""
    kinds = dedupe(row.kind for row in rows if row.kind)
    return {
        kind: {"questions": float(sum(row.kind == kind for row in rows))}
        | aggregate([row for row in rows if row.kind == kind])
        for kind in kinds
    }


def curves(rows: Sequence[QuestionResult]) -> dict[str, dict[str, float]]:
    """hit@k and recall@k by k over the rows with retrieval metrics, for the 'metric by k' plot."""
    scored = [row for row in rows if "hit@1" in row.retrieval]
    depth = max((len(row.ranked) for row in scored), default=0)
    ks = [k for k in CURVE_KS if k <= max(depth, 1)]
    result: dict[str, dict[str, float]] = {"hit@k": {}, "recall@k": {}}
    for k in ks:
        named = [(list(row.ranked), list(row.sources)) for row in scored]
        result["hit@k"][str(k)] = round(mean(hit_at_k(r, s, k) for r, s in named) or 0.0, 4)
        result["recall@k"][str(k)] = round(mean(recall_at_k(r, s, k) for r, s in named) or 0.0, 4)
    return result
