"""The writer lock of an index folder: one writer at a time, a second one fails at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexLockedError, StorageError

LOCK_NAME = ".write.lock"


@contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's write lock; raise IndexLockedError instead of waiting for another writer."""
    from filelock import FileLock, Timeout  # here: a reader never locks, and filelock takes ~15 ms to load

    lock = FileLock(folder / LOCK_NAME, timeout=0, is_singleton=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise IndexLockedError(
            f"another process is writing to {folder}; wait for it to finish and retry"
        ) from None
    except OSError as error:
        raise StorageError(
            f"cannot write to {folder} ({error.strerror}): searching works, adding or removing documents does not"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def file_lock(path: Path, timeout: float) -> Iterator[bool]:
    """Hold the lock file at path and yield True; yield False, holding nothing, when another process
    holds it past timeout seconds or the file cannot be made (best-effort callers go on without)."""
    from filelock import FileLock, Timeout

    lock = FileLock(path, timeout=timeout, is_singleton=False, thread_local=False)
    try:
        lock.acquire()
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
