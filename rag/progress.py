"""A one-line terminal progress display for ingests (stderr, redrawn in place on a TTY)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rag.ingest import IngestProgress

REDRAW_SECONDS = 0.2


class ProgressLine:
    """Renders IngestProgress as 'done/total files, chunks, rates, ETA' on one line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.is_terminal = self.stream.isatty()
        self._last_draw = 0.0
        self._last_text = ""

    def __call__(self, progress: IngestProgress) -> None:
        now = time.monotonic()
        finished = progress.done >= progress.total
        interval = REDRAW_SECONDS if self.is_terminal else 5.0
        if not finished and now - self._last_draw < interval:
            return
        self._last_draw = now
        self._last_text = format_progress(progress)
        end = "" if self.is_terminal and not finished else "\n"
        prefix = "\r\033[K" if self.is_terminal else ""
        self.stream.write(prefix + self._last_text + end)
        self.stream.flush()


def format_progress(progress: IngestProgress) -> str:
    """'12/40 files  310 chunks  4.1 files/s  105 chunks/s  ETA 7s'."""
    seconds = max(progress.seconds, 1e-6)
    files_rate = progress.done / seconds
    chunk_rate = progress.chunks / seconds
    remaining = (progress.total - progress.done) / files_rate if files_rate > 0 else 0.0
    return (
        f"{progress.done}/{progress.total} files  {progress.chunks} chunks  "
        f"{files_rate:.1f} files/s  {chunk_rate:.0f} chunks/s  ETA {remaining:.0f}s"
    )
