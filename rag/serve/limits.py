"""Bounded work: a few requests run at once, some wait briefly, the rest are refused at once.

Answering is CPU-bound, so more parallel work than cores only makes everyone slower. A caller
beyond the queue, or one who would wait past the deadline at the recent pace, gets 429 at once;
one who waited the deadline anyway gets 503; both with Retry-After.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from rag.serve.errors import APIError

MAX_JSON_BYTES = 1024 * 1024
MAX_MESSAGES = 100
MAX_K = 50


@dataclass(frozen=True)
class Limits:
    """How much work runs at once, how much may wait and for how long, and how big a request may be."""

    workers: int = 2
    queue: int = 64
    wait_seconds: float = 30.0
    max_json_bytes: int = MAX_JSON_BYTES
    max_upload_bytes: int = 50 * 1024 * 1024


class Gate:
    """At most `workers` holders at once; at most `queue` more waiting, each for `wait_seconds`."""

    def __init__(self, workers: int, queue: int, wait_seconds: float) -> None:
        self.workers = workers
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.waiting = 0
        self.running = 0
        self.average_seconds = 0.0  # how long a holder keeps its slot, smoothed; 0 until one finished
        self._slots: asyncio.Semaphore | None = None

    def expected_wait(self) -> float:
        """Seconds a newcomer would wait for a slot, from the callers ahead and recent work times."""
        ahead = self.running + self.waiting - self.workers + 1
        return max(0, ahead) * self.average_seconds / self.workers

    @property
    def retry_after(self) -> str:
        """Seconds a refused caller should wait: until the present queue has drained."""
        return str(max(1, math.ceil(max(self.expected_wait(), self.wait_seconds / 4))))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of the block, or raise a 429 or 503 APIError."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)  # created inside the server's event loop
        is_full = self.running + self.waiting >= self.workers + self.queue
        # A caller who would wait past the deadline anyway is told at once instead of after it.
        is_too_slow = self.expected_wait() > self.wait_seconds
        if is_full or is_too_slow:
            raise APIError(
                429,
                f"the server is busy ({self.running} running, {self.waiting} waiting); retry later",
                "server_busy",
                headers={"Retry-After": self.retry_after},
            )
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
        except TimeoutError:
            raise APIError(
                503,
                f"no worker was free within {self.wait_seconds:g} s; retry later",
                "server_overloaded",
                headers={"Retry-After": self.retry_after},
            ) from None
        finally:
            self.waiting -= 1
        self.running += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
            held = time.monotonic() - started
            self.average_seconds = (
                held if not self.average_seconds else 0.8 * self.average_seconds + 0.2 * held
            )
