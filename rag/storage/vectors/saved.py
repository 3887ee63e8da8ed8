"""vectors.faiss and vectors.json: the saved FAISS index and what it holds, with its checksum.

The saved index is a base: it holds the vectors up to its mark (vectors.json), and a reader
brings it up to date from SQLite's journal of changes (vector_journal). It is written to a
temporary file, flushed, then renamed into place, vectors.json first: a crash between the two
renames leaves the previous vectors.faiss, intact, under a vectors.json that names its checksum
as the previous one. Such a file is stale, not damaged; either way a checksum that does not
match the recorded one is never trusted, and the index is rebuilt from SQLite.
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


def is_previous_save(folder: Path, meta: dict[str, Any]) -> bool:
    """Whether vectors.faiss is the intact file a save replaced, left by a crash before its rename."""
    try:
        data = (folder / VECTORS_NAME).read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == meta.get("previous_sha256")


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


def write_base(folder: Path, data: bytes, meta: dict[str, Any], mode: int | None = None) -> dict[str, Any]:
    """Save an index and its meta (given its sha256 and size); return the meta written. mode: the
    files' permissions (None: those of the folder's database)."""
    meta = {**meta, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    try:
        meta["previous_sha256"] = _sha256_of(folder / VECTORS_NAME)
        if mode is None:
            # Readable by whoever may read the database: a shared index is not rebuilt by each reader.
            mode = stat.S_IMODE((folder / DATABASE_NAME).stat().st_mode)
        _atomic_write(folder / VECTORS_META_NAME, json.dumps(meta).encode(), mode)
        _atomic_write(folder / VECTORS_NAME, data, mode)
    except OSError as error:
        raise StorageError(
            f"could not write {folder / VECTORS_NAME} ({error.strerror}); the documents are"
            " saved and the vector file is rebuilt next time: free some space"
        ) from error
    return meta


def _sha256_of(path: Path) -> str | None:
    """The sha256 of the file's bytes, None when there is no file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


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
