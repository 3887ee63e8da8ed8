"""Folder change events through watchfiles (the one module importing it), debounced."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles


def event_stream(roots: list[Path], stop: threading.Event, debounce_ms: int) -> Callable[[float], list[Path]]:
    """Start watching the roots; the function returned waits up to N seconds for changed paths."""
    changes: queue.Queue[Path] = queue.Queue()

    def run() -> None:
        for batch in watchfiles.watch(*roots, debounce=debounce_ms, stop_event=stop, raise_interrupt=False):
            for _, path in batch:
                changes.put(Path(path))

    threading.Thread(target=run, name="sync-watch", daemon=True).start()

    def wait(seconds: float) -> list[Path]:
        deadline = time.monotonic() + seconds
        found: list[Path] = []
        # In slices, so that a stop request is heard within a quarter of a second.
        while not found and not stop.is_set() and time.monotonic() < deadline:
            try:
                found.append(changes.get(timeout=min(0.25, max(0.0, deadline - time.monotonic()))))
            except queue.Empty:
                continue
        while not changes.empty():
            found.append(changes.get_nowait())
        return found

    return wait
