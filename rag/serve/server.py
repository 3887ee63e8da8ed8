"""Run the server with uvicorn until interrupted."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from rag.embedding import Embedder
from rag.errors import RagError, SettingsError
from rag.serve.app import Mount, create_app
from rag.serve.capacity import Capacity, connection_cap
from rag.serve.feedback import SHARED_ANSWERS_NAME, SharedAnswers
from rag.serve.following import follow_before_serving, start_following
from rag.serve.guard import RequestGuard
from rag.serve.service import ServeConfig, Service, open_service
from rag.serve.syncing import start_syncing

# A slow or stuck client must not hold a connection for ever.
KEEP_ALIVE_SECONDS = 5
HEADER_SECONDS = 10.0  # for a request's headers to arrive in full, however slowly they trickle
START_TIMEOUT_SECONDS = 30.0


class _HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers.

    uvicorn's own keep-alive timer starts only after a response and stops at any byte received,
    so headers sent a byte at a time (slow-loris) would hold a connection, and one of the
    connection_cap(), for ever, without a key.
    """

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._headers_arrived()

    def on_response_complete(self) -> None:
        self._await_headers()  # the next request on this connection; before any pipelined one runs
        super().on_response_complete()

    def _await_headers(self) -> None:
        self._headers_arrived()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class _TickingServer(uvicorn.Server):
    """uvicorn's server, noting when its event loop last ran its tick (every 0.1 s while serving):
    a loop blocked or a process stopped shows as a tick that ages (`loop_age`)."""

    last_tick = 0.0

    async def on_tick(self, counter: int) -> bool:
        self.last_tick = time.monotonic()
        return await super().on_tick(counter)

    def loop_age(self) -> float:
        """Seconds since the event loop last ticked (0 before it first did)."""
        return time.monotonic() - self.last_tick if self.last_tick else 0.0


def _uvicorn(app: Any, config: ServeConfig, service: Service) -> _TickingServer:
    # The cap is ours, not uvicorn's limit_concurrency (a plain-text 503 with no Retry-After).
    capacity = Capacity(app, connection_cap(config.limits), service.gate.retry_after)
    server = _TickingServer(
        uvicorn.Config(
            capacity,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            http=_HeaderTimeoutProtocol,
        )
    )
    capacity.connections = server.server_state.connections
    return server


def _guard(config: ServeConfig) -> RequestGuard:
    return RequestGuard.for_address(config.host, config.allowed_hosts)


def check_port_free(host: str, port: int) -> None:
    """Fail in one line, before any model loads, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SettingsError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port or --host"
            ) from error


class Serving:
    """One process's server: its collections opened and the model warmed, uvicorn built, not yet running."""

    def __init__(
        self, config: ServeConfig, mount: Mount | None = None, sync: bool | None = None, shared: str = ""
    ) -> None:
        self.config = config
        self.service = open_service(config)
        if shared:  # one of several processes: feedback may come to another than the one that answered
            self.service.recent = SharedAnswers(Path(shared) / SHARED_ANSWERS_NAME)
        for name in self.service.collections.names:
            self.service.collections.base(name).embedder.embed(
                ["warm up"]
            )  # the first question does not wait
        self.followed = follow_before_serving(self.service.collections)  # nor for a vector index
        self.sync = config.sync if sync is None else sync
        self.server = _uvicorn(create_app(self.service, _guard(config), mount), config, self.service)

    def banner(self, port: int | None = None) -> str:
        """The line that says where the API is and what it serves."""
        service = self.service
        shown = ", ".join(service.collections.names)
        keys = f", {len(service.keys)} keys" if service.keys is not None else ", no keys (loopback only)"
        where = f"http://{self.config.host}:{self.config.port if port is None else port}"
        return f"Verbatim API at {where}/v1 (MCP at /mcp): {shown}{keys}"

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve (on `sockets` when given: listening sockets shared with other processes) until stopped."""
        stop = threading.Event()
        if self.sync:
            start_syncing(self.service.collections, stop)
        start_following(self.service.collections, self.followed, stop)
        try:
            self.server.run(sockets=sockets)
        finally:
            stop.set()


def serve(config: ServeConfig, mount: Mount | None = None) -> None:
    """Open the collections, then serve HTTP and MCP on config.host:config.port until Ctrl+C."""
    check_port_free(config.host, config.port)
    serving = Serving(config, mount)

    def say_when_listening() -> None:  # the banner promises a server that takes connections
        while not serving.server.started and not serving.server.should_exit:
            time.sleep(0.02)
        if serving.server.started:
            print(serving.banner(), file=sys.stderr, flush=True)

    threading.Thread(target=say_when_listening, daemon=True).start()
    serving.run()


class RunningServer:
    """A server started in a background thread (tests, benchmarks); stop() ends it."""

    def __init__(
        self, config: ServeConfig, mount: Mount | None = None, embedder: Embedder | None = None
    ) -> None:
        service = open_service(config, embedder)
        self.service = service
        self._stop_syncing = threading.Event()  # and following
        if config.sync:
            start_syncing(service.collections, self._stop_syncing)
        start_following(service.collections, follow_before_serving(service.collections), self._stop_syncing)
        self._server = _uvicorn(create_app(service, _guard(config), mount), config, service)
        self._thread = threading.Thread(target=self._server.run, name="rag-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RagError(
                    f"the server did not start on {config.host}:{config.port}; is the port in use?"
                )
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._stop_syncing.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
