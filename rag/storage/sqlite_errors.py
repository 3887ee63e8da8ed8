"""What SQLite reports about an index, as the one-line errors of rag.errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from rag.errors import IndexDamagedError, IndexLockedError, RagError, StorageError

DATABASE_NAME = "rag.sqlite"
_Result = TypeVar("_Result")


def storage_error(error: sqlite3.Error, folder: Path) -> RagError:
    """The one-line error a user sees for what SQLite reported about the index in `folder`."""
    name = getattr(error, "sqlite_errorname", "") or ""
    database = folder / DATABASE_NAME
    if name == "SQLITE_FULL":
        return StorageError(
            f"the disk holding {folder} is full; free some space and run the command again"
            " (documents committed before are kept)"
        )
    if name.startswith("SQLITE_READONLY"):
        return StorageError(f"{folder} is read-only: searching works, adding or removing documents does not")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return IndexLockedError(f"{folder} is busy with another process; retry in a moment")
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return StorageError(f"cannot read or write {database} ({error}); check the disk and its permissions")
    return IndexDamagedError(
        f"{database} is damaged ({error}); run `rag check --index {folder}` to see what is wrong"
    )


def translated(method: Callable[..., _Result]) -> Callable[..., _Result]:
    """Raise SQLite's errors as the one-line errors of rag.errors."""

    @wraps(method)
    def translating(self: Any, *args: Any, **kwargs: Any) -> _Result:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise storage_error(error, self.folder) from error

    return translating
