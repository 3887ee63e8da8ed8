"""File fingerprints: a changed file (or changed chunker settings) means a re-ingest."""

from __future__ import annotations

import hashlib


def content_hash(data: bytes, settings_key: str = "") -> str:
    """sha256 of the raw bytes (plus a settings key, so a settings change re-ingests)."""
    digest = hashlib.sha256(data)
    digest.update(settings_key.encode("utf-8"))
    return digest.hexdigest()
