"""What a person reads on a terminal: progress bars (through tqdm) and human-readable sizes.

`__all__` is its public face, which ui/ and eval/ may import; rag's own modules use the rest too.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

from rag.types import IngestProgress

__all__ = ["BuildProgressBar", "IngestProgressBar", "format_bytes"]

# C0 and C1 control characters (newlines too): in a file name they would move the cursor,
# recolour the terminal or forge extra output lines. Bidirectional controls reorder what
# follows them: "evil\u202etxt.md" reads as "evildm.txt".
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A terminal redraws in place; a log file (CI, a pipe) gets a line now and then, not a flood.
TERMINAL_REDRAW_SECONDS = 0.2
LOG_REDRAW_SECONDS = 5.0


def format_bytes(size: float) -> str:
    """1234567 -> '1.2 MB' (binary units: 1 KB = 1024 bytes)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def printable(text: str, keep: str = "") -> str:
    """Text safe to print on a terminal: control characters not in keep shown as escapes (\\n, \\x1b)."""
    return _CONTROL.sub(
        lambda match: match.group() if match.group() in keep else repr(match.group())[1:-1], text
    )


class ProgressBar:
    """A tqdm bar counting `unit`s on stderr; call it with (done, total), close it when finished."""

    def __init__(self, unit: str, stream: TextIO | None = None, total: int = 0) -> None:
        from tqdm import tqdm  # here: a command that draws no bar does not pay for loading it

        stream = stream or sys.stderr
        interval = TERMINAL_REDRAW_SECONDS if stream.isatty() else LOG_REDRAW_SECONDS
        self._bar = tqdm(
            total=total, unit=f" {unit}", file=stream, mininterval=interval, dynamic_ncols=True, leave=True
        )
        self._interval = interval
        self._last_redraw = 0.0  # the first note shows at once ("starting Ray" can take a while)

    def __call__(self, done: int, total: int, note: str = "") -> None:
        if total != self._bar.total:
            self._bar.total = total
        if note:
            self._bar.set_postfix_str(printable(note), refresh=False)
        if done == self._bar.n:
            # Only the note moved (chunks of one long file): tqdm redraws on count changes alone.
            if time.monotonic() - self._last_redraw >= self._interval:
                self._bar.refresh()
                self._last_redraw = time.monotonic()
        else:
            self._bar.update(done - self._bar.n)
            self._last_redraw = time.monotonic()
        if done >= total:
            self.close()

    def close(self) -> None:
        """Draw the final state and release the terminal line."""
        self._bar.close()


class BuildProgressBar:
    """A vector index build's progress callback: a bar of vectors, drawn only if a build happens."""

    def __init__(self, stream: TextIO | None = None, unit: str = "vectors") -> None:
        self._stream = stream
        self._unit = unit
        self._bar: ProgressBar | None = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        if self._bar is None:
            self._bar = ProgressBar(self._unit, self._stream, total)
        self._bar(done, total, stage)

    def close(self) -> None:
        """Release the terminal line."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> BuildProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class IngestProgressBar:
    """An ingest progress callback: files done of total, with the chunks embedded so far.

    The bar appears with the first progress report, so an ingest that fails before it starts
    (another writer, a bad setting) prints its one error line alone.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._bar: ProgressBar | None = None

    def __call__(self, progress: IngestProgress) -> None:
        if self._bar is None:
            self._bar = ProgressBar("files", self._stream, progress.total)
        current = progress.current.rsplit("/", 1)[-1]
        self._bar(progress.done, progress.total, f"{progress.chunks} chunks, {current}" if current else "")

    def close(self) -> None:
        """Release the terminal line (also after a failed ingest)."""
        if self._bar is not None:
            self._bar.close()
