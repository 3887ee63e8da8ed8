"""What one running server holds: its collections, keys and limits, and how work is run under them."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rag.embedding import Embedder
from rag.errors import RagError, SettingsError
from rag.serve.auth import caller_access
from rag.serve.collections import Collections, open_collections
from rag.serve.errors import from_rag_error
from rag.serve.keys import Access, KeyRing, load_keys
from rag.serve.limits import Gate, Limits
from rag.settings import Settings

Result = TypeVar("Result")
# Uploads and removals take the index's write lock: one at a time, a few waiting.
WRITE_WORKERS = 1
WRITE_QUEUE = 8


@dataclass(frozen=True)
class ServeConfig:
    """What `rag serve` was asked to serve, and how."""

    collections: Mapping[str, Path | str]  # a name -> an index folder or a postgresql:// URL
    keys_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    limits: Limits = field(default_factory=Limits)
    settings: Settings | None = None
    # Host names the server answers to besides loopback and the bound address (a proxy's name).
    allowed_hosts: tuple[str, ...] = ()


@dataclass
class Service:
    """The collections, keys and work limits behind every route and MCP tool."""

    collections: Collections
    keys: KeyRing | None
    limits: Limits
    gate: Gate
    write_gate: Gate

    def access(self, authorization: str | None) -> Access:
        """The caller's Access from their Authorization header (401 APIError when refused)."""
        return caller_access(self.keys, authorization, self.collections.names)

    async def run(
        self, caller: Access, function: Callable[..., Result], *args: Any, write: bool = False
    ) -> Result:
        """Run blocking work in a thread once the gate lets the caller in; library errors become API errors."""
        async with (self.write_gate if write else self.gate).slot(caller.holder):
            return await asyncio.to_thread(_api_errors, function, *args)


def _api_errors(function: Callable[..., Result], *args: Any) -> Result:
    try:
        return function(*args)
    except RagError as error:
        raise from_rag_error(error) from error


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def open_service(config: ServeConfig, embedder: Embedder | None = None) -> Service:
    """Open the collections and read the keys; refuse a non-loopback address without keys."""
    if config.keys_file is None and not is_loopback(config.host):
        raise SettingsError(
            f"refusing to serve on {config.host} without --keys: anyone who can reach it could read and "
            "change every collection; give --keys FILE, or bind 127.0.0.1"
        )
    collections = open_collections(config.collections, config.settings, embedder)
    keys = load_keys(config.keys_file, collections.names) if config.keys_file is not None else None
    limits = config.limits
    return Service(
        collections,
        keys,
        limits,
        Gate(limits.workers, limits.queue, limits.wait_seconds),
        Gate(WRITE_WORKERS, WRITE_QUEUE, max(limits.wait_seconds, 300.0)),
    )
