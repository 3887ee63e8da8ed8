"""The server's cap on connections and requests, answered like the admission queue's refusal.

uvicorn's own cap (`limit_concurrency`) answers past it with a plain-text 503 that says nothing
about when to come back. This cap sits at the admission queue's size (every request the queue
may hold, the ones running, and a few spare for health checks and writes), so a request is
refused by the queue's prediction long before it; when it is reached anyway (connections held
open without a request, say) the answer is the queue's: a 429 in OpenAI's shape with a
Retry-After.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Callable, Sized
from typing import Any

from rag.serve.errors import error_body
from rag.serve.limits import Limits

# Room past the queue for what does not queue: health checks, model lists, keep-alive connections.
SPARE_CONNECTIONS = 256
# File descriptors left for the index, the model and the log when the connection cap is sized.
RESERVED_DESCRIPTORS = 256


def connection_cap(limits: Limits) -> int:
    """How many connections (and requests in flight) the server holds: the admission queue and its
    workers plus a spare, within the open-file limit (raised to its hard maximum first)."""
    wanted = limits.workers + limits.queue + SPARE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # kept as it was: the cap follows the soft limit
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_DESCRIPTORS))


class Capacity:
    """ASGI middleware: past `cap` connections or requests in flight, a JSON 429 with Retry-After."""

    def __init__(self, app: Any, cap: int, retry_after: Callable[[], str]) -> None:
        self.app = app
        self.cap = cap
        self.retry_after = retry_after
        self.connections: Sized = ()  # the server's open connections, once it has them
        self.in_flight = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(self.connections) > self.cap or self.in_flight >= self.cap:
            await self._refuse(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, send: Any) -> None:
        message = f"the server holds its limit of {self.cap} connections; retry later"
        body = json.dumps(error_body(429, message, "server_busy")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self.retry_after().encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
