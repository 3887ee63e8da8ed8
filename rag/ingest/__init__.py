"""Ingest: find files, load and decode them, chunk, hash, and hand whole documents to storage.

`__all__` is its public face, which ui/ and eval/ may import: uploads from the chat UI, and
parsing one file within limits.
"""

from rag.exports import lazy_exports as _lazy_exports

_EXPORTS = {
    "ParseLimits": "rag.ingest.sandbox",
    "load_bytes": "rag.ingest.loaders",
    "DEFAULT_MAX_UPLOAD_MB": "rag.ingest.uploads",
    "MAX_FILES_PER_UPLOAD": "rag.ingest.uploads",
    "UPLOADS_FOLDER": "rag.ingest.uploads",
    "check_upload": "rag.ingest.uploads",
    "keep_uploads": "rag.ingest.uploads",
    "safe_file_name": "rag.ingest.uploads",
    "store_upload": "rag.ingest.uploads",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
