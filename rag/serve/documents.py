"""Listing, uploading and removing documents of a collection (HTTP and MCP)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.ingest.uploads import UPLOADS_FOLDER, keep_uploads
from rag.serve.auth import readable, writable
from rag.serve.collections import Collections
from rag.serve.errors import APIError
from rag.serve.keys import Access


def list_documents(
    collections: Collections, access: Access, requested: Sequence[str] | None
) -> dict[str, Any]:
    """GET /v1/documents: every document of the caller's collections, without its text."""
    names = readable(access, requested, collections.names, "collection")
    data = [
        info.to_dict() | {"collection": name} for name in names for info in collections.base(name).documents()
    ]
    return {"object": "list", "data": data}


def upload(
    collections: Collections,
    access: Access,
    requested: str | None,
    files: Sequence[tuple[str, Path]],
    max_bytes: int,
) -> dict[str, Any]:
    """POST /v1/documents: check (as the UI does), keep and ingest uploaded (name, temp file) pairs."""
    name = writable(access, requested, collections.names)
    if not files:
        raise APIError(400, "attach one or more files as `file` form fields", "invalid_request", "file")
    collection = collections.get(name)
    if collection.base.url is not None:  # uploads are kept in a folder beside the index: none here
        raise APIError(
            400,
            f"collection {name} is in PostgreSQL: add documents with `rag ingest PATH --index URL`",
            "upload_refused",
            "file",
        )
    with collection.write_lock:
        kept, refused = keep_uploads(files, collection.base.folder / UPLOADS_FOLDER, max_bytes)
        if not kept:
            reasons = "; ".join(reason for _, reason in refused)
            raise APIError(400, f"no file was accepted: {reasons}", "upload_refused", "file")
        report = collection.base.ingest(kept)
    return {"collection": name, "refused": [{"name": n, "reason": r} for n, r in refused]} | report.to_dict()


def remove(collections: Collections, access: Access, requested: str | None, source: str) -> dict[str, Any]:
    """DELETE /v1/documents/{source}: remove one document (path, file name or unique suffix)."""
    name = writable(access, requested, collections.names)
    collection = collections.get(name)
    with collection.write_lock:
        stored = collection.base.resolve_source(source)
        chunks = collection.base.remove(stored)
    return {"collection": name, "removed": stored, "chunks": chunks}


def spool_folder() -> Path:
    """A fresh private folder for one request's uploaded temp files."""
    return Path(tempfile.mkdtemp(prefix="verbatim-upload-"))
