"""Ingest: find files, load and decode them, chunk, hash, and hand whole documents to storage."""
