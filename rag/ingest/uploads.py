"""Files uploaded by someone else (the chat UI, `rag serve`): checked, renamed safely, kept.

Both front ends call these, so an upload is refused for the same reasons wherever it arrives.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.loaders import SUPPORTED_SUFFIXES, check_content_matches_type

DEFAULT_MAX_UPLOAD_MB = 50
MAX_FILES_PER_UPLOAD = 50
UPLOADS_FOLDER = "uploads"
# Controls, folder separators, and bidirectional controls (which make "evil\u202etxt.md" read as
# "evildm.txt" wherever the name is shown).
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MAX_NAME_CHARS = 150
# File systems count bytes (255 on most); room is left for " (12)" and the ".partial" copy.
_MAX_NAME_BYTES = 200
_SNIFF_BYTES = 64 * 1024


def safe_file_name(name: str) -> str:
    """A plain file name (no folders, control characters or leading dots) for the uploads folder."""
    base = _UNSAFE_NAME_CHARACTERS.sub("", Path(name.replace("\\", "/")).name).strip().lstrip(".")
    if not base:
        raise DocumentError("the file has no usable name; rename it and upload again")
    stem, suffix = os.path.splitext(base)
    stem = stem[: _MAX_NAME_CHARS - len(suffix)]
    room = _MAX_NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode(errors="ignore") + suffix


def check_upload(name: str, path: Path, max_bytes: int) -> None:
    """Refuse uploads that are too big, of an unsupported type, or whose content is not that type."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(f"{name}: type {suffix or '(none)'} is not supported; use {supported}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"{name} is {format_bytes(size)}, over the {format_bytes(max_bytes)} upload limit"
        )
    with path.open("rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    check_content_matches_type(name, head)


def store_upload(name: str, path: Path, uploads: Path, max_bytes: int) -> Path:
    """Check an uploaded temp file and copy it into the uploads folder; return the kept path.

    A different file of the same name never replaces the one already kept (another user's,
    perhaps): the new one is kept beside it as "name (2).ext"; the same bytes again are the
    same file.
    """
    safe_name = safe_file_name(name)
    check_upload(safe_name, path, max_bytes)
    uploads.mkdir(parents=True, exist_ok=True)
    target = free_name(uploads, safe_name, _digest(path))
    # Copy then rename, so the indexed file is never seen half-written.
    partial = uploads / f".{target.name}.partial"
    shutil.copyfile(path, partial)
    os.replace(partial, target)
    return target


def free_name(folder: Path, name: str, digest: str) -> Path:
    """folder/name, or the first "name (n).ext" that is free or already holds these bytes."""
    stem, suffix = os.path.splitext(name)
    for number in range(1, 10_000):
        candidate = folder / (name if number == 1 else f"{stem} ({number}){suffix}")
        if not candidate.exists() or _digest(candidate) == digest:
            return candidate
    raise DocumentError(f"too many files named {name} in {folder}; rename it and upload again")


def _digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def keep_uploads(
    files: Sequence[tuple[str, Path]], uploads: Path, max_bytes: int
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Keep the acceptable (name, temp file) uploads: (kept paths, refused (name, reason))."""
    kept: list[Path] = []
    refused: list[tuple[str, str]] = []
    for name, path in files[:MAX_FILES_PER_UPLOAD]:
        try:
            kept.append(store_upload(name, path, uploads, max_bytes))
        except DocumentError as error:
            refused.append((name, str(error)))
        except OSError as error:
            refused.append((name, f"could not be kept ({error.strerror}); check the disk"))
    for name, _ in files[MAX_FILES_PER_UPLOAD:]:
        refused.append((name, f"more than {MAX_FILES_PER_UPLOAD} files in one upload"))
    return kept, refused
