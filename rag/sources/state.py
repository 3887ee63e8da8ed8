"""What sync knows of each source between passes, kept beside the index and written atomically.

The index is the truth: a document is committed before its token is recorded here, so a pass
killed at any point resumes by checking again what it had not recorded (content hashes make
that cost a read, never a second copy).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "sync-state.json"
STATE_VERSION = 1
MAX_FAILURES_KEPT = 50


@dataclass
class SourceState:
    """One source's tokens (key -> [token, stored source name]) and its last pass."""

    spec: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, list[str]] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)  # the last pass's report
    # The last pass that changed, failed or warned: a quiet pass since does not hide it.
    last_change: dict[str, Any] = field(default_factory=dict)
    # Entries that failed and have not been ingested since (a failed file is retried when it changes).
    failing: dict[str, str] = field(default_factory=dict)
    next_run: float | None = None

    def tokens(self) -> dict[str, str]:
        """key -> token of every entry recorded."""
        return {key: value[0] for key, value in self.entries.items()}


class SyncState:
    """Every source's state, in `sync-state.json` in the index folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self.sources: dict[str, SourceState] = {}
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # damaged: the next pass checks every entry again, and content hashes skip the rest
        for location, value in data.get("sources", {}).items():
            self.sources[location] = SourceState(
                spec=value.get("spec", {}),
                entries=value.get("entries", {}),
                last=value.get("last", {}),
                last_change=value.get("last_change", {}),
                failing=value.get("failing", {}),
                next_run=value.get("next_run"),
            )

    def source(self, location: str) -> SourceState:
        """The state of a source, empty when it was never synced."""
        return self.sources.setdefault(location, SourceState())

    def save(self) -> None:
        """Write the state to a temporary file, flush it to disk, then rename it into place."""
        data = {
            "version": STATE_VERSION,
            "sources": {
                location: {
                    "spec": state.spec,
                    "entries": state.entries,
                    "last": state.last,
                    "next_run": state.next_run,
                    "last_change": state.last_change,
                    "failing": state.failing,
                }
                for location, state in self.sources.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".sync-state.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                # dumps, not dump: one C-encoded string, where dump encodes piece by piece in Python
                # (a third of a second per save for 10,000 entries).
                stream.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
