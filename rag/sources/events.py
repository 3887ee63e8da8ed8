"""Folder change events through watchfiles (the one module importing it), debounced."""

from __future__ import annotations

import queue
import threading
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
        try:
            found = [changes.get(timeout=seconds)]
        except queue.Empty:
            return []
        while not changes.empty():
            found.append(changes.get_nowait())
        return found

    return wait
