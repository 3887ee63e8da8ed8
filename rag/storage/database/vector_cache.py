"""The copies of followers' FAISS indexes this machine saved (database/follower.py), and their eviction.

Each PostgreSQL index a reader here followed has a folder under the user cache folder's
postgres-vectors. One is never read again once its index is dropped, moved or left, so a copy
not loaded or saved for MAX_IDLE_DAYS is removed, and the least recently used go while all of
them hold more than MAX_BYTES. A folder's last use is its modification time: a save renames
files into it, a load touches it. A reader holds the folder's lock file while it reads or saves;
eviction skips a folder whose lock it cannot take at once, so a copy in use is never removed.
Eviction is best effort: a folder it cannot remove stays, and costs a reader nothing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from rag.storage.lock import file_lock

MAX_IDLE_DAYS = 30.0
MAX_BYTES = 8 * 1024**3  # all copies together; one index of a million 384-number vectors is ~1.5 GB
READ_WAIT_SECONDS = 10.0  # how long a reader waits for an eviction of its folder to finish
# How long a reader waits for another process on this machine building the same index (45.5 s at a
# million chunks); past it, it builds its own.
BUILD_WAIT_SECONDS = 1800.0


@dataclass(frozen=True)
class Limits:
    """What a machine's saved copies may keep: copies used within max_idle_days, max_bytes in all
    (Settings.vector_cache_days and vector_cache_gb; None there is these defaults)."""

    max_idle_days: float = MAX_IDLE_DAYS
    max_bytes: int = MAX_BYTES

    @classmethod
    def of(cls, days: float | None, gigabytes: float | None) -> Limits:
        """The limits the settings name, the defaults where they name none."""
        return cls(
            MAX_IDLE_DAYS if days is None else days,
            MAX_BYTES if gigabytes is None else int(gigabytes * 1024**3),
        )


DEFAULT_LIMITS = Limits()


def lock_path(folder: Path) -> Path:
    """The lock file of a copy's folder, beside it (a lock inside would go with the folder)."""
    return folder.with_name(folder.name + ".lock")


@contextmanager
def building(folder: Path) -> Iterator[None]:
    """Be the one process on this machine that builds the index a copy's folder is for: another one
    waits here, then takes the copy saved, instead of building it again at the same time."""
    with suppress(OSError):
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with file_lock(folder.with_name(folder.name + ".build"), BUILD_WAIT_SECONDS):
        yield


@contextmanager
def in_use(folder: Path) -> Iterator[None]:
    """Hold a copy's folder against eviction while reading or saving it, and mark it used now."""
    with suppress(OSError):  # a cache folder that cannot be made holds no copy: nothing to guard
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with file_lock(lock_path(folder), READ_WAIT_SECONDS):
        yield
        with suppress(OSError):
            os.utime(folder)


def evict(root: Path, keep: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> list[Path]:
    """Remove the copies under root unused for the limits' days, then the least recently used while
    all hold more than their bytes (never keep, nor one in use); return the folders removed."""
    copies = sorted(_copies(root, keep), key=lambda found: found[1])  # least recently used first
    total = sum(size for _, _, size in copies) + (_size(keep) if keep is not None else 0)
    cutoff = time.time() - limits.max_idle_days * 86_400
    removed = []
    for folder, used, size in copies:
        if used >= cutoff and total <= limits.max_bytes:
            break
        if _remove(folder):
            removed.append(folder)
            total -= size
    return removed


def _copies(root: Path, keep: Path | None) -> list[tuple[Path, float, int]]:
    """(folder, last use, bytes) of every copy under root but keep."""
    found = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for folder in entries:
        if folder == keep or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            found.append((folder, folder.stat().st_mtime, _size(folder)))
        except OSError:
            continue
    return found


def _size(folder: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    except OSError:
        return 0


def _remove(folder: Path) -> bool:
    """Remove a copy unless a reader holds it (then it stays, as do files that cannot be removed)."""
    with file_lock(lock_path(folder), 0) as held:
        if not held:
            return False
        shutil.rmtree(folder, ignore_errors=True)
    # The empty lock file stays: removing it could let a reader that opened it, and one that makes
    # it again, each hold a lock of their own.
    return not folder.exists()
