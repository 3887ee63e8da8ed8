"""What each source's sync did, as `rag sync --status`, `rag stats`, `GET /v1/sources` and the UI show it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rag.sources.state import MAX_FAILURES_KEPT, SyncState

COUNTS = ("added", "updated", "renamed", "removed", "failed")


def status(folder: Path) -> list[dict[str, Any]]:
    """Each source's last pass, its last pass that changed something, and its next scheduled one."""
    return [
        {
            "location": location,
            "kind": state.spec.get("kind", ""),
            # Entries recorded, less the files that never went in (a failing one is retried when it changes).
            "documents": sum(1 for key in state.entries if key not in state.failing),
            "next_run": state.next_run,
            "last": state.last,
            "last_change": state.last_change,
            # Entries whose last attempt failed, with the reason, until they change and go in.
            "failing": [[key, reason] for key, reason in list(state.failing.items())[:MAX_FAILURES_KEPT]],
            "failing_count": len(state.failing),
        }
        for location, state in SyncState(folder).sources.items()
    ]


def counts_text(last: dict[str, Any]) -> str:
    """'2 added, 1 removed, 1 failed' (the non-zero counts of a pass), or 'no change'."""
    parts = [f"{last[name]} {name}" for name in COUNTS if last.get(name)]
    if last.get("pending"):
        parts.append(f"{last['pending']} still being written")
    return ", ".join(parts) or "no change"


def next_text(next_run: float | None, now: float | None = None) -> str:
    """'in 9 min', 'due now', or 'on demand' (no --watch or --sync has scheduled one)."""
    if not next_run:
        return "on demand"
    seconds = next_run - (time.time() if now is None else now)
    if seconds <= 1:
        return "due now"
    return f"in {seconds:.0f} s" if seconds < 90 else f"in {seconds / 60:.0f} min"


def summary(source: dict[str, Any]) -> str:
    """One line: documents, the last pass and what it did, the next pass, any error."""
    last, change = source["last"], source.get("last_change") or {}
    line = f"{source['documents']} documents; last pass {last.get('started_at') or 'never'}"
    if last:
        line += f": {counts_text(last)}"
    if change and change != last:  # a quiet pass came since (maybe within the same second)
        line += f"; last change {change['started_at']}: {counts_text(change)}"
    if source.get("failing_count"):
        line += f"; {source['failing_count']} failing"
    line += f"; next {next_text(source['next_run'])}"
    return line + (f"; error: {last['error']}" if last.get("error") else "")
