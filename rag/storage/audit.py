"""The audit trail: who asked what, what each answer quoted, who changed which document, who was
refused and why. Append-only: triggers refuse to update a row, and to delete one unless it is
older than the cutoff of a retention pass (`prune`, which leaves a `pruned` event behind).

Its own table and its own schema step (`add_audit_table`), so other tables can be added beside it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

AuditAction = Literal[
    "asked", "searched", "added", "removed", "narrowed", "refused", "logged_in", "logged_out", "pruned"
]

_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events(actor, seq)",
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END""",
    # Set only inside a retention pass's own transaction: the time before which events may go.
    "CREATE TABLE IF NOT EXISTS audit_prune_permit (cutoff TEXT NOT NULL)",
    # Replaced by the trigger below, which lets a retention pass remove old events, and only those.
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    """CREATE TRIGGER IF NOT EXISTS audit_events_only_old_deleted BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.at < cutoff) BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only (rag audit --prune-older-than DAYS removes old events)');
END""",
)


@dataclass(frozen=True)
class AuditEvent:
    """One line of the trail."""

    seq: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dict(self.__dict__)


def add_audit_table(connection: sqlite3.Connection) -> None:
    """Schema step (issue 23): the append-only audit_events table, in an index of any format version."""
    for statement in _STATEMENTS:
        connection.execute(statement)


def append(connection: sqlite3.Connection, actor: str, action: AuditAction, detail: dict[str, Any]) -> None:
    """Add one event."""
    connection.execute(
        "INSERT INTO audit_events (actor, action, detail) VALUES (?, ?, ?)",
        (actor, action, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def events(
    connection: sqlite3.Connection, since: str | None = None, actor: str | None = None
) -> list[AuditEvent]:
    """The events, oldest first, from `since` (an ISO time or date) and of one actor when given."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'"
    ).fetchone()
    if exists is None:
        return []
    rows = connection.execute(
        "SELECT seq, at, actor, action, detail FROM audit_events"
        " WHERE (? IS NULL OR at >= ?) AND (? IS NULL OR actor = ?) ORDER BY seq",
        (since, since, actor, actor),
    )
    return [
        AuditEvent(int(seq), at, who, action, json.loads(detail)) for seq, at, who, action, detail in rows
    ]


def prune(connection: sqlite3.Connection, days: float, actor: str) -> tuple[str, int]:
    """Remove the events older than `days` days, in the caller's transaction: (the cutoff, how many).

    The pass itself is recorded as a `pruned` event, so the trail says that and when it was cut.
    """
    (cutoff,) = connection.execute(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", (f"-{days} days",)
    ).fetchone()
    connection.execute("INSERT INTO audit_prune_permit (cutoff) VALUES (?)", (cutoff,))
    removed = connection.execute("DELETE FROM audit_events WHERE at < ?", (cutoff,)).rowcount
    connection.execute("DELETE FROM audit_prune_permit")
    append(connection, actor, "pruned", {"older_than": cutoff, "events": removed})
    return str(cutoff), int(removed)
