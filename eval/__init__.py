"""Evaluation runner, benchmarks and question sets; uses only rag's public API."""
