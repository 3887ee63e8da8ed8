"""Evaluation: metrics, datasets, per-question scoring, the runner behind rag.evaluate, reports.

`__all__` is its public face, which ui/ and eval/ may import: the metrics and BEIR readers the
benchmarks and calibration scripts use, and the question set made of feedback (eval/feedback_loop.py), the quality dashboard (the UI's
Quality tab), and the sentence boundaries the answer step quotes by (eval/near_miss.py removes
whole sentences with them).
"""

from rag.exports import lazy_exports as _lazy_exports

_EXPORTS = {
    "answer_contains": "rag.evaluation.metrics",
    "quality_dashboard": "rag.evaluation.dashboard",
    "dashboard_html": "rag.evaluation.dashboard_page",
    "feedback_question_set": "rag.evaluation.feedback:regression_rows",
    "feedback_summary": "rag.evaluation.feedback:summary",
    "write_question_set": "rag.evaluation.feedback",
    "question_changes": "rag.evaluation.report",
    "refusal_scores": "rag.evaluation.metrics",
    "retrieval_metrics": "rag.evaluation.scoring",
    "open_corpus_index": "rag.evaluation.datasets",
    "read_beir_corpus": "rag.evaluation.datasets:beir_items",
    "read_beir_queries": "rag.evaluation.datasets:load_beir_queries",
    "split_sentences": "rag.language.sentences",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
