"""The audit trail in a PostgreSQL index (format 2): the folder's audit_events (rag/storage/audit.py),
append-only through a trigger (storage/database/schema.py), with the same times and JSON details.
"""

from __future__ import annotations

import json
from typing import Any

from rag.storage.audit import AuditAction, AuditEvent


def append(connection: Any, actor: str, action: AuditAction, detail: dict[str, Any]) -> None:
    """Add one event."""
    connection.execute(
        "INSERT INTO audit_events (actor, action, detail) VALUES (%s, %s, %s)",
        (actor, action, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def events(connection: Any, since: str | None = None, actor: str | None = None) -> list[AuditEvent]:
    """The events, oldest first, from `since` (an ISO time or date) and of one actor when given."""
    rows = connection.execute(
        "SELECT seq, at, actor, action, detail FROM audit_events"
        " WHERE (%(since)s::text IS NULL OR at >= %(since)s) AND (%(actor)s::text IS NULL OR actor = %(actor)s)"
        " ORDER BY seq",
        {"since": since, "actor": actor},
    )
    return [
        AuditEvent(int(seq), at, who, action, json.loads(detail)) for seq, at, who, action, detail in rows
    ]


def prune(connection: Any, days: float, actor: str) -> tuple[str, int]:
    """Remove the events older than `days` days, in the caller's transaction: (the cutoff, how many).

    The permit row lets the trigger pass these deletions, and only in this transaction (no other
    sees it before the commit, by which it is gone); the pass is recorded as a `pruned` event.
    """
    # The folder's time format (ISO 8601, UTC, milliseconds), as the column's default writes it.
    row = connection.execute(
        "SELECT to_char((clock_timestamp() - %s * interval '1 day') AT TIME ZONE 'UTC',"
        """ 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""",
        (days,),
    ).fetchone()
    cutoff = str(row[0])
    connection.execute("INSERT INTO audit_prune_permit (cutoff) VALUES (%s)", (cutoff,))
    removed = connection.execute("DELETE FROM audit_events WHERE at < %s", (cutoff,)).rowcount
    connection.execute("DELETE FROM audit_prune_permit")
    append(connection, actor, "pruned", {"older_than": cutoff, "events": removed})
    return cutoff, int(removed)
