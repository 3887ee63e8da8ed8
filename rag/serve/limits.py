"""Bounded work: a few requests run at once, the rest wait their turn while the predicted wait fits.

Answering is CPU-bound, so more parallel work than cores only makes everyone slower. A newcomer
is admitted when the wait predicted from the measured service time and the callers ahead of it
fits the deadline; otherwise it gets 429 at once, with a Retry-After of the seconds until it would
fit. Waiting callers queue per caller (API key) and are served in turn, so one caller's burst
delays another caller's request by at most one answer per queued caller. One who waited the
deadline anyway (the prediction was wrong) gets 503.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from rag.serve.defaults import MAX_QUEUE
from rag.serve.errors import APIError

MAX_JSON_BYTES = 1024 * 1024
MAX_MESSAGES = 100
MAX_K = 50
# Weight of the newest hold time in the smoothed service time.
SMOOTHING = 0.2


@dataclass(frozen=True)
class Limits:
    """How much work runs at once, how much may wait and for how long, and how big a request may be."""

    workers: int = 2
    queue: int = MAX_QUEUE
    wait_seconds: float = 30.0
    max_json_bytes: int = MAX_JSON_BYTES
    max_upload_bytes: int = 50 * 1024 * 1024


class Hold:
    """One held slot: the work still running under it, which the slot is not given back before."""

    def __init__(self) -> None:
        self.work: asyncio.Future[Any] | None = None

    def until(self, work: asyncio.Future[Any]) -> asyncio.Future[Any]:
        """Keep the slot until `work` is done, even past the end of the block; returns `work`."""
        self.work = work
        work.add_done_callback(_retrieve)
        return work


def _retrieve(work: asyncio.Future[Any]) -> None:
    """Mark the outcome of work whose caller went away as seen (its error was already answered)."""
    if not work.cancelled():
        work.exception()


class Gate:
    """At most `workers` holders at once; newcomers wait in per-caller queues served in turn."""

    def __init__(self, workers: int, queue: int, wait_seconds: float) -> None:
        self.workers = workers
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.running = 0
        self.waiting = 0
        self.service_seconds = 0.0  # how long a holder keeps its slot, smoothed; 0 until one finished
        self._queues: dict[str, deque[asyncio.Future[None]]] = {}
        self._live: dict[str, int] = {}  # queued callers per caller who still wait (not timed out)
        self._turns: deque[str] = deque()  # callers with a queue, in the order they are served

    def ahead_of(self, caller: str) -> int:
        """Queued requests served before a newcomer from `caller`: its own, and each other caller's in turn."""
        own = self._live.get(caller, 0)
        ahead = own
        is_past = False
        for other in self._turns:
            if other == caller:
                is_past = True
            else:  # those before the caller in the rotation get one more turn than those after it
                ahead += min(self._live.get(other, 0), own if is_past else own + 1)
        return ahead

    def predicted_wait(self, caller: str = "") -> float:
        """Seconds a newcomer from `caller` would wait for a slot, at the measured service time."""
        slots_to_free = self.running - self.workers + 1 + self.ahead_of(caller)
        return max(0, slots_to_free) * self.service_seconds / self.workers

    @asynccontextmanager
    async def slot(self, caller: str = "") -> AsyncIterator[Hold]:
        """Hold one slot for the duration of the block, or raise a 429 or 503 APIError.

        Work the block hands to `Hold.until` keeps the slot after the block ends (a caller that
        went away), until that work is done: a thread cannot be stopped half-way.
        """
        await self._enter(caller)
        started = time.monotonic()
        hold = Hold()
        try:
            yield hold
        finally:
            if hold.work is None or hold.work.done():
                self._leave(started)
            else:
                hold.work.add_done_callback(lambda _: self._leave(started))

    def _leave(self, started: float) -> None:
        held = time.monotonic() - started
        smoothed = (1 - SMOOTHING) * self.service_seconds + SMOOTHING * held
        self.service_seconds = smoothed if self.service_seconds else held
        self._hand_on()

    async def _enter(self, caller: str) -> None:
        if self.running < self.workers and not self.waiting:
            self.running += 1
            return
        self._admit(caller)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if caller not in self._queues:
            self._queues[caller] = deque()
            self._turns.append(caller)
        self._queues[caller].append(turn)
        self._live[caller] = self._live.get(caller, 0) + 1
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn
        except BaseException as error:
            if turn.done() and not turn.cancelled():
                self._hand_on()  # the slot came just as the caller gave up: pass it on
            else:
                self._forget(caller)
            if isinstance(error, TimeoutError):
                raise APIError(
                    503,
                    f"no worker was free within {self.wait_seconds:g} s; retry later",
                    "server_overloaded",
                    headers={"Retry-After": self.retry_after(caller)},
                ) from None
            raise

    def _admit(self, caller: str) -> None:
        """Raise 429 when the queue is at its cap or the predicted wait is past the deadline."""
        if self.waiting < self.queue and self.predicted_wait(caller) <= self.wait_seconds:
            return
        raise APIError(
            429,
            f"the server is busy ({self.running} running, {self.waiting} waiting); retry later",
            "server_busy",
            headers={"Retry-After": self.retry_after(caller)},
        )

    def retry_after(self, caller: str = "") -> str:
        """Whole seconds until a newcomer from `caller` would be admitted, if no one else came."""
        per_slot = self.service_seconds / self.workers
        until_deadline_fits = self.predicted_wait(caller) - self.wait_seconds
        until_cap_has_room = (self.waiting - self.queue + 1) * per_slot
        return str(max(1, math.ceil(max(until_deadline_fits, until_cap_has_room))))

    def _forget(self, caller: str) -> None:
        # Its future stays queued (done) and is skipped when reached: removing it would cost O(queue).
        self._one_less(caller)

    def _one_less(self, caller: str) -> None:
        self._live[caller] -= 1
        if not self._live[caller]:
            del self._live[caller]
        self.waiting -= 1

    def _hand_on(self) -> None:
        """Give a freed slot to the next caller in turn, or free it when no one waits."""
        while self._turns:
            caller = self._turns.popleft()
            queue = self._queues[caller]
            turn = queue.popleft()
            if queue:
                self._turns.append(caller)
            else:
                del self._queues[caller]
            if turn.done():
                continue  # it gave up waiting and was already forgotten
            self._one_less(caller)
            turn.set_result(None)
            return
        self.running -= 1
