"""Safe-by-default server settings: upload limits, blocked paths, optional login."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import rag

# The upload checks live in rag, so the UI and `rag serve` refuse the same files.
DEFAULT_MAX_UPLOAD_MB = rag.DEFAULT_MAX_UPLOAD_MB
MAX_FILES_PER_UPLOAD = rag.MAX_FILES_PER_UPLOAD
UPLOADS_FOLDER = rag.UPLOADS_FOLDER
safe_file_name = rag.safe_file_name
check_upload = rag.check_upload
store_upload = rag.store_upload


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
