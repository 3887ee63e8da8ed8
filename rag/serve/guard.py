"""Who may reach the server at all: the Host allow-list and the browser-origin check, for every route.

A key-less server on loopback trusts whoever can connect, so it must tell a local program from a
web page the user happens to have open. Two checks do that, before any route, the MCP endpoint or
the mounted UI sees a request:
- the Host header must name this server (loopback names, the bound address, `--allowed-host`
  names); a page on a rebound name (DNS rebinding) sends its own name and is refused;
- a request from a browser page of another origin (a foreign `Origin`, or `Sec-Fetch-Site` other
  than `same-origin`/`none` on a state-changing method) is refused: forms and `fetch` without
  CORS preflight can send it, even though the page could not read the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from rag.serve.errors import APIError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# Bind addresses that accept any destination address: no single name to hold a Host to.
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# What a browser says when the request comes from the server's own page, or from no page at all.
OWN_FETCH_SITES = ("same-origin", "none")


def host_name(host: str) -> str:
    """The name in a Host header or a bind address, without its port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host  # a bare name, or a bare IPv6 address


@dataclass(frozen=True)
class RequestGuard:
    """The Host names a server answers to; `names` None means any (a wildcard bind without --allowed-host)."""

    names: frozenset[str] | None

    @classmethod
    def for_address(cls, bound_host: str, allowed_hosts: Iterable[str] = ()) -> RequestGuard:
        """Loopback names, the bound address and the allowed names; any Host on a wildcard bind left open."""
        allowed = {host_name(name) for name in allowed_hosts if name.strip()}
        bound = host_name(bound_host)
        if bound in WILDCARD_ADDRESSES and not allowed:
            return cls(None)  # needs --keys (open_service), so a rebound page still has no key
        named = {bound} if bound not in WILDCARD_ADDRESSES else set()
        return cls(frozenset({*LOOPBACK_NAMES, *named, *allowed}))

    def refusal(self, method: str, headers: Mapping[str, str]) -> APIError | None:
        """Why this request may not go on (421 for a foreign Host, 403 for a foreign page), or None."""
        host = headers.get("host", "")
        if self.names is not None and host_name(host) not in self.names:
            return APIError(
                421,
                f"this server does not answer to the host name {host_name(host)!r}; "
                "start it with --allowed-host NAME to allow it",
                "invalid_host",
            )
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.strip().lower():
            return APIError(403, "requests from another web site's page are refused", "cross_origin")
        site = headers.get("sec-fetch-site")
        if site is not None and site not in OWN_FETCH_SITES and method not in SAFE_METHODS:
            return APIError(403, "requests from another web site's page are refused", "cross_origin")
        return None
