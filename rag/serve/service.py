"""What one running server holds: its collections, keys and limits, and how work is run under them."""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rag.access.policy import load_policy
from rag.access.tokens import TokenVerifier
from rag.embedding import Embedder
from rag.errors import RagError, SettingsError, StoragePermissionError
from rag.serve.auth import caller_access
from rag.serve.collections import Collections, open_collections
from rag.serve.errors import APIError, from_rag_error
from rag.serve.feedback import RecentAnswers
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
    # Which groups may read and change each collection and document (--access FILE, TOML).
    access_file: Path | None = None
    # An OpenID Connect provider whose bearer tokens are accepted beside the keys.
    oidc: OidcConfig | None = None
    # Whether the audit trail keeps the text of questions (False: only that one was asked).
    audit_questions: bool = True
    # Keep each collection in step with its sources (its sources.toml, earlier `rag sync`s).
    sync: bool = False
    # Days audit events are kept (None: for ever); older ones are removed as new ones are written.
    audit_keep_days: float | None = None


@dataclass(frozen=True)
class OidcConfig:
    """The provider whose tokens the API accepts: issuer URL, audience, the claim holding groups."""

    issuer: str
    audience: str
    groups_claim: str = "groups"
    # Seconds between fetches of the provider's keys when a token names an unknown one.
    refresh_cooldown: float = 30.0
    # The chat UI's client at the provider, for logging people in (`rag serve --ui`); its id is
    # usually the audience too.
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    # People in these groups see the audit trail of every served collection in the chat UI.
    admin_groups: tuple[str, ...] = ()

    def verifier(self) -> TokenVerifier:
        """The token verifier for this provider (keys are fetched on first use)."""
        return TokenVerifier(self.issuer, self.audience, self.groups_claim, self.refresh_cooldown)


@dataclass
class Service:
    """The collections, keys and work limits behind every route and MCP tool."""

    collections: Collections
    keys: KeyRing | None
    limits: Limits
    gate: Gate
    write_gate: Gate
    recent: RecentAnswers = field(default_factory=RecentAnswers)  # what POST /v1/feedback refers to
    tokens: TokenVerifier | None = None
    oidc: OidcConfig | None = None  # the provider, and the UI's client at it

    def access(self, authorization: str | None) -> Access:
        """The caller's Access from their Authorization header (401 APIError when refused)."""
        collections = self.collections
        return caller_access(self.keys, authorization, collections.names, self.tokens, collections.policy)

    async def run(
        self, caller: Access, function: Callable[..., Result], *args: Any, write: bool = False
    ) -> Result:
        """Run blocking work in a thread once the gate lets the caller in; library errors become API errors."""
        async with (self.write_gate if write else self.gate).slot(caller.holder) as hold:
            # Shielded: a caller that goes away stops waiting, while the slot waits for the thread.
            work = hold.until(asyncio.ensure_future(asyncio.to_thread(_api_errors, function, *args)))
            try:
                return await asyncio.shield(work)
            except APIError as error:
                error.message = self.collections.without_folders(error.message)
                raise


def _api_errors(function: Callable[..., Result], *args: Any) -> Result:
    try:
        return function(*args)
    except StoragePermissionError as error:  # the caller is told less; the operator reads this
        print(f"refused by the database: {error}", file=sys.stderr, flush=True)
        raise from_rag_error(error) from error
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
    if config.keys_file is None and config.oidc is None and not is_loopback(config.host):
        raise SettingsError(
            f"refusing to serve on {config.host} without --keys or --oidc-issuer: anyone who can reach it "
            "could read and change every collection; give --keys FILE, or bind 127.0.0.1"
        )
    if config.oidc is not None and config.access_file is None:
        raise SettingsError(
            "--oidc-issuer needs --access FILE: say which groups may read and change each collection"
        )
    collections = open_collections(config.collections, config.settings, embedder)
    if config.access_file is not None:
        collections.policy = load_policy(config.access_file, collections.names)
    collections.trail.record_questions = config.audit_questions
    collections.trail.keep_days = config.audit_keep_days
    keys = load_keys(config.keys_file, collections.names) if config.keys_file is not None else None
    limits = config.limits
    return Service(
        collections,
        keys,
        limits,
        Gate(limits.workers, limits.queue, limits.wait_seconds),
        Gate(WRITE_WORKERS, WRITE_QUEUE, max(limits.wait_seconds, 300.0)),
        tokens=config.oidc.verifier() if config.oidc is not None else None,
        oidc=config.oidc,
    )
