"""Content hashes: document ids and file fingerprints."""

from __future__ import annotations

import hashlib
import unicodedata


def document_id(text: str) -> str:
    """sha256 of the NFC-normalised text with unified line endings."""
    normalised = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def content_hash(data: bytes, settings_key: str = "") -> str:
    """sha256 of the raw bytes (plus a settings key, so a settings change re-ingests)."""
    digest = hashlib.sha256(data)
    digest.update(settings_key.encode("utf-8"))
    return digest.hexdigest()
