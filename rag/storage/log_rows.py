"""Deleting rows of the two logs an index keeps of its use (feedback, questions) in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

# SQLite allows so many parameters in one statement: longer id lists are deleted in parts.
_IDS_PER_STATEMENT = 500


def delete_rows(
    connection: sqlite3.Connection,
    table: str,
    columns: tuple[str, str],
    keys: Sequence[str],
    who: str | None,
    before: str,
) -> int:
    """Delete the rows of `table` whose key column (columns[0]) is one of keys, given by `who`, or
    written before a time (columns[1]); return how many went. Table and columns are the caller's
    own names, never a user's."""
    key, time = columns
    deleted = 0
    for start in range(0, len(keys), _IDS_PER_STATEMENT):
        part = list(keys[start : start + _IDS_PER_STATEMENT])
        marks = ",".join("?" * len(part))
        deleted += connection.execute(f"DELETE FROM {table} WHERE {key} IN ({marks})", part).rowcount
    if who is not None:
        deleted += connection.execute(f"DELETE FROM {table} WHERE who = ?", (who,)).rowcount
    if before:
        deleted += connection.execute(f"DELETE FROM {table} WHERE {time} < ?", (before,)).rowcount
    return deleted
