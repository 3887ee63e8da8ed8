"""Evaluation: metrics, datasets, per-question scoring, the runner behind rag.evaluate, reports."""
