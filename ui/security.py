"""Safe-by-default server settings: upload checks, blocked paths, optional login."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import rag

DEFAULT_MAX_UPLOAD_MB = 50
MAX_FILES_PER_UPLOAD = 50
UPLOADS_FOLDER = "uploads"
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")
_MAX_NAME_CHARS = 150


def safe_file_name(name: str) -> str:
    """A plain file name (no folders, control characters or leading dots) for the uploads folder."""
    base = _UNSAFE_NAME_CHARACTERS.sub("", Path(name.replace("\\", "/")).name).strip().lstrip(".")
    if not base:
        raise rag.DocumentError("the file has no usable name; rename it and upload again")
    stem, suffix = os.path.splitext(base)
    return stem[: _MAX_NAME_CHARS - len(suffix)] + suffix


def check_upload(name: str, path: Path, max_bytes: int) -> None:
    """Refuse uploads that are too big, of an unsupported type, or whose content is not that type."""
    suffix = Path(name).suffix.lower()
    if suffix not in rag.SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(rag.SUPPORTED_SUFFIXES))
        raise rag.DocumentError(f"{name}: type {suffix or '(none)'} is not supported; use {supported}")
    size = path.stat().st_size
    if size > max_bytes:
        raise rag.DocumentError(
            f"{name} is {rag.format_bytes(size)}, over the {rag.format_bytes(max_bytes)} upload limit"
        )
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
    rag.check_content_matches_type(name, head)


def store_upload(name: str, path: Path, uploads: Path, max_bytes: int) -> Path:
    """Check an uploaded temp file and copy it into the uploads folder; return the kept path."""
    safe_name = safe_file_name(name)
    check_upload(safe_name, path, max_bytes)
    uploads.mkdir(parents=True, exist_ok=True)
    target = uploads / safe_name
    # Copy then rename, so the indexed file is never seen half-written.
    partial = uploads / f".{safe_name}.partial"
    shutil.copyfile(path, partial)
    os.replace(partial, target)
    return target


def blocked_paths(index_folder: Path, data_folders: Sequence[Path] = ()) -> list[str]:
    """Folders the web server must never serve: the index (with uploads) and the document folders."""
    paths = [index_folder, *data_folders]
    return sorted({str(path.resolve()) for path in paths} | {str(path.absolute()) for path in paths})


def auth_from_env() -> tuple[str, str] | None:
    """(user, password) when RAG_UI_USER and RAG_UI_PASSWORD are both set, else None."""
    user, password = os.environ.get("RAG_UI_USER", ""), os.environ.get("RAG_UI_PASSWORD", "")
    if bool(user) != bool(password):
        raise rag.RagError("set both RAG_UI_USER and RAG_UI_PASSWORD to require a login, or neither")
    return (user, password) if user else None
