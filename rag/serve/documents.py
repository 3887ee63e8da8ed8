"""Listing, uploading and removing documents of a collection (HTTP and MCP)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.errors import NotFoundError
from rag.ingest.uploads import UPLOADS_FOLDER, keep_uploads
from rag.serve.auth import readable, writable
from rag.serve.collections import Collections
from rag.serve.errors import APIError, bad_request
from rag.serve.keys import Access
from rag.sources.status import status as sync_status


def list_documents(
    collections: Collections, access: Access, requested: Sequence[str] | None
) -> dict[str, Any]:
    """GET /v1/documents: every document of the caller's collections, without its text."""
    names = readable(access, requested, collections.names, "collection")
    data = [
        info.to_dict() | {"collection": name, "source": collections.get(name).sources.shown(info.source)}
        for name in names
        for info in collections.reader(name, access.actor).documents()
    ]
    return {"object": "list", "data": data}


def list_sources(collections: Collections, access: Access, requested: Sequence[str] | None) -> dict[str, Any]:
    """GET /v1/sources: where each of the caller's collections syncs from, and its last pass."""
    names = readable(access, requested, collections.names, "collection")
    data = [
        _shown_status(source) | {"collection": name}
        for name in names
        for source in sync_status(collections.base(name).folder)
    ]
    return {"object": "list", "data": data}


def _shown_status(source: dict[str, Any]) -> dict[str, Any]:
    """A source's status as a caller sees it: a synced folder named from its own name down (as the
    documents it brings are), never by the server's path to it; other locations as they are."""
    location = str(source["location"])
    if not os.path.isabs(location):
        return source
    parent = os.path.dirname(location.rstrip("/")).rstrip("/") + "/"
    shown = _without_prefix(source, parent)
    return shown if isinstance(shown, dict) else source


def _without_prefix(value: Any, prefix: str) -> Any:
    """Every string inside a JSON-like value with the prefix taken out wherever it appears."""
    if isinstance(value, str):
        return value.replace(prefix, "")
    if isinstance(value, list):
        return [_without_prefix(item, prefix) for item in value]
    if isinstance(value, dict):
        return {key: _without_prefix(item, prefix) for key, item in value.items()}
    return value


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
    collections.trail.changed(access.actor, name, "added", {"files": [str(path.name) for path in kept]})
    shown = report.to_dict()
    for result in shown["files"]:
        result["source"] = collection.sources.shown(result["source"])
    return {"collection": name, "refused": [{"name": n, "reason": r} for n, r in refused]} | shown


def remove(collections: Collections, access: Access, requested: str | None, source: str) -> dict[str, Any]:
    """DELETE /v1/documents/{source}: remove one document (path, file name or unique suffix)."""
    name = writable(access, requested, collections.names)
    collection = collections.get(name)
    view = collections.reader(name, access.actor)  # a document the caller may not read is not found
    with collection.write_lock:
        stored = view.resolve_source(collection.sources.stored(source))
        shown = collection.sources.shown(stored)  # named before it goes
        chunks = view.remove(stored)
    collections.trail.changed(access.actor, name, "removed", {"source": stored})
    return {"collection": name, "removed": shown, "chunks": chunks}


def page_image(
    collections: Collections,
    access: Access,
    requested: Sequence[str] | None,
    document_id: str,
    page: int,
    query: dict[str, str | None],
) -> bytes:
    """GET /v1/documents/{id}/pages/{n}.png: the page as PNG, ?highlight=START:END, ?width=PX,
    ?source=NAME (a citation's source: files with the same text share an id, not their pages).

    The document is looked for in the requested collections (default: every one the key may
    read), in order; one the key may not read is never searched.
    """
    highlight = parse_highlight(query.get("highlight"))
    width = _positive(query.get("width"), "width")
    source = query.get("source")
    for name in readable(access, requested, collections.names, "collection"):
        view = collections.reader(name, access.actor)  # a document the caller may not read is not there
        wanted = collections.get(name).sources.stored(source) if source else document_id
        try:
            found = view.document(wanted)
            view.engine_store().paged_file(wanted)
        except NotFoundError:
            continue
        if found.id != document_id and found.source != document_id:
            continue  # the source names another document than the path
        return view.page_image(wanted, page, highlight, width)
    raise APIError(404, f"no document {document_id!r} in the collections this key may read", "not_found")


def parse_highlight(value: str | None) -> tuple[int, int] | None:
    """(start, end) of "START:END" character offsets; None when absent; a 400 when malformed."""
    if value is None or value == "":
        return None
    start, separator, end = value.partition(":")
    if not separator or not start.isdigit() or not end.isdigit() or int(start) >= int(end):
        raise bad_request(
            "highlight must be START:END character offsets of the document text, START < END", "highlight"
        )
    return int(start), int(end)


def _positive(value: str | None, param: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise bad_request(f"{param} must be a whole number of pixels", param)
    return int(value)


def set_readers(
    collections: Collections, access: Access, requested: str | None, source: str, body: object
) -> dict[str, Any]:
    """PUT /v1/documents/{source}/readers {"read": ["group", ...] | null}: narrow who may read one
    document (null lifts it); only a writer of the collection who may read the document may."""
    name = writable(access, requested, collections.names)
    read = body.get("read", ...) if isinstance(body, dict) else ...
    if read is not None and (
        not isinstance(read, list) or not all(isinstance(group, str) and group for group in read) or not read
    ):
        raise APIError(
            400, "`read` must be a non-empty list of group names, or null", "invalid_request", "read"
        )
    collection = collections.get(name)
    view = collections.reader(name, access.actor)
    with collection.write_lock:
        stored = view.set_readers(
            collection.sources.stored(source), None if read is None else frozenset(read), access.actor
        )
    collections.trail.changed(access.actor, name, "narrowed", {"source": stored, "read": read})
    shown = collection.sources.shown(stored)
    return {"collection": name, "source": shown, "read": None if read is None else sorted(set(read))}


def spool_folder() -> Path:
    """A fresh private folder for one request's uploaded temp files."""
    return Path(tempfile.mkdtemp(prefix="verbatim-upload-"))
