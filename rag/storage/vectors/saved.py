"""vectors.faiss and vectors.json: the saved FAISS index and what it holds, with its checksum.

The saved index is a base: it holds the vectors up to its mark (vectors.json), and a reader
brings it up to date from SQLite's journal of changes (vector_journal). It is written to a
temporary file, flushed, then renamed into place; a crash between the two renames leaves a
checksum that does not match, and the index is then rebuilt from SQLite, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from rag.errors import StorageError
from rag.storage.sqlite_errors import DATABASE_NAME

VECTORS_NAME = "vectors.faiss"
VECTORS_META_NAME = "vectors.json"


def read_meta(folder: Path) -> dict[str, Any]:
    """vectors.json: the mark, dimension, count, checksum and build of vectors.faiss ({} if unreadable)."""
    try:
        meta = json.loads((folder / VECTORS_META_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def read_checked(folder: Path, meta: dict[str, Any]) -> bytes | None:
    """The bytes of vectors.faiss when their sha256 is the recorded one, else None."""
    try:
        data = (folder / VECTORS_NAME).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == meta.get("sha256") else None


def read_base(folder: Path) -> tuple[dict[str, Any], bytes] | None:
    """(meta, data) of a whole saved index, or None; a save that lands while reading is read again."""
    for _ in range(3):
        meta = read_meta(folder)
        data = read_checked(folder, meta) if meta else None
        if data is not None:
            return meta, data
        if read_meta(folder) == meta:
            return None  # damaged or missing, not merely replaced while we read
    return None


def write_base(folder: Path, data: bytes, meta: dict[str, Any]) -> dict[str, Any]:
    """Save an index and its meta (given its sha256 and size); return the meta written."""
    meta = {**meta, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    try:
        # Readable by whoever may read the database: a shared index is not rebuilt by each reader.
        mode = stat.S_IMODE((folder / DATABASE_NAME).stat().st_mode)
        _atomic_write(folder / VECTORS_NAME, data, mode)
        _atomic_write(folder / VECTORS_META_NAME, json.dumps(meta).encode(), mode)
    except OSError as error:
        raise StorageError(
            f"could not write {folder / VECTORS_NAME} ({error.strerror}); the documents are"
            " saved and the vector file is rebuilt next time: free some space"
        ) from error
    return meta


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
