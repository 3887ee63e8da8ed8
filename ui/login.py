"""People log in to the chat UI through OpenID Connect: the authorization-code flow with PKCE.

authlib's Starlette client does the protocol (discovery, state, nonce, the S256 code challenge,
the code exchange and the ID token's checks); the ID token is then checked once more by the
server's own TokenVerifier, which also reads the person's groups, exactly as for API tokens. A
login is a server-side session: the browser holds only a random id (an HttpOnly cookie), so a
log-out ends it for good. A gate in front of every page, file and event of the UI lets through
only requests of a live session.

Routes (under the UI's path): GET auth/login (to the provider), GET auth/callback (back from it),
POST auth/logout.
"""

from __future__ import annotations

import asyncio
import html
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

import rag
from rag.access import Actor

COOKIE = "verbatim_session"
# The short-lived cookie holding the login flow's state and PKCE verifier (authlib keeps them there).
FLOW_COOKIE = "verbatim_login_flow"
FLOW_SECONDS = 600
# A login lasts as long as the ID token it came from, and never longer than this.
LONGEST_LOGIN_SECONDS = 8 * 3600
# Sessions kept at once; the oldest go first past it.
MOST_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    """One login: who, and until when (time.time())."""

    actor: Actor
    until: float


class Logins:
    """Live logins by session id, in memory: a restart of the server logs everyone out."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def start(self, actor: Actor, until: float) -> str:
        """A new session for the person; returns its id (the cookie's value)."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._sessions = {key: kept for key, kept in self._sessions.items() if kept.until > now}
            while len(self._sessions) >= MOST_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[session_id] = Session(actor, min(until, now + LONGEST_LOGIN_SECONDS))
        return session_id

    def actor(self, session_id: str | None) -> Actor | None:
        """Who the session is, while it lasts; None for no, an unknown or an ended session."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.until <= self._clock():
                del self._sessions[session_id]
                return None
        return session.actor if session is not None else None

    def end(self, session_id: str | None) -> Actor | None:
        """End a session (log-out); returns who it was."""
        with self._lock:
            session = self._sessions.pop(session_id or "", None)
        return session.actor if session is not None else None

    def person_of(self, request: Any) -> Actor | None:
        """The person a request's session cookie names (a Starlette or Gradio request)."""
        cookies = getattr(request, "cookies", None) or {}
        return self.actor(cookies.get(COOKIE))


@dataclass(frozen=True)
class Provider:
    """The OpenID Connect client the UI logs people in as."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"


class OidcLogin:
    """The login routes and the gate of a UI mounted at `path` of a Starlette/FastAPI app."""

    def __init__(
        self,
        provider: Provider,
        verify: Callable[[str], Actor],
        trail: Any,
        readable: Callable[[Actor], Sequence[str]],
        path: str,
    ) -> None:
        self.path = path.rstrip("/")
        self.logins = Logins()
        self._verify = verify
        self._trail = trail
        self._readable = readable
        oauth = OAuth()
        self._client: Any = oauth.register(
            "verbatim",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256"},
        )

    @property
    def logout_url(self) -> str:
        """Where the page's log-out form posts."""
        return f"{self.path}/auth/logout"

    def install(self, app: Any) -> None:
        """Add the login routes and the gate to the app (before it starts)."""
        app.add_route(f"{self.path}/auth/login", self.login, methods=["GET"])
        app.add_route(f"{self.path}/auth/callback", self.callback, methods=["GET"])
        app.add_route(self.logout_url, self.logout, methods=["POST"])
        app.add_middleware(_Gate, logins=self.logins, path=self.path)
        app.add_middleware(
            SessionMiddleware,
            secret_key=secrets.token_urlsafe(32),
            session_cookie=FLOW_COOKIE,
            max_age=FLOW_SECONDS,
            path=f"{self.path}/auth",
            same_site="lax",
        )

    async def login(self, request: Request) -> Response:
        """Send the browser to the provider's login page, with a fresh state, nonce and code challenge."""
        callback = str(request.base_url).rstrip("/") + f"{self.path}/auth/callback"
        try:
            response: Response = await self._client.authorize_redirect(request, callback)
        except Exception as error:  # noqa: BLE001 - an unreachable provider is a page, not a 500
            return _page(
                f"The identity provider cannot be reached ({type(error).__name__}). Try again later.", 502
            )
        return response

    async def callback(self, request: Request) -> Response:
        """Back from the provider: exchange the code, check the ID token, start a session."""
        try:
            token = await self._client.authorize_access_token(request)
            actor = await asyncio.to_thread(self._verify, str(token.get("id_token", "")))
        except (OAuthError, rag.RagError) as error:
            reason = getattr(error, "error", "") or str(error)
            await asyncio.to_thread(self._trail.refused, "anonymous", f"login {reason}", request.url.path)
            return _page(f"The login did not complete ({reason}).", 400, self.path)
        expires = token.get("userinfo", {}).get("exp") or time.time() + 3600
        session_id = self.logins.start(actor, float(expires))
        await asyncio.to_thread(self._trail.logged_in, actor, list(self._readable(actor)))
        response = RedirectResponse(f"{self.path}/", status_code=303)
        response.set_cookie(
            COOKIE,
            session_id,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path=self.path,
            max_age=LONGEST_LOGIN_SECONDS,
        )
        return response

    async def logout(self, request: Request) -> Response:
        """End the session; the page says so and offers to log in again."""
        actor = self.logins.end(request.cookies.get(COOKIE))
        if actor is not None:
            await asyncio.to_thread(self._trail.logged_out, actor, list(self._readable(actor)))
        response = _page("You are logged out.", 200, self.path)
        response.delete_cookie(COOKIE, path=self.path)
        return response


def _page(message: str, status: int, path: str = "") -> HTMLResponse:
    again = f" <a id='log-in' href='{html.escape(path)}/auth/login'>Log in</a>" if path else ""
    body = f"<!doctype html><title>Verbatim</title><p id='login-message'>{html.escape(message)}{again}</p>"
    return HTMLResponse(body, status, headers={"Cache-Control": "no-store"})


class _Gate:
    """ASGI middleware: under the UI's path, only a live session gets through (the login routes
    excepted). The page itself sends the browser to log in; anything else is a 401."""

    def __init__(self, app: Any, logins: Logins, path: str) -> None:
        self.app = app
        self.logins = logins
        self.path = path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        under = path == self.path or path.startswith(self.path + "/")
        if scope["type"] not in ("http", "websocket") or not under or path.startswith(self.path + "/auth/"):
            await self.app(scope, receive, send)
            return
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies |= cookie_parser(value.decode("latin-1"))
        if self.logins.actor(cookies.get(COOKIE)) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response: Response
        if scope.get("method") == "GET" and path in (self.path, self.path + "/"):
            response = RedirectResponse(f"{self.path}/auth/login", status_code=303)
        else:
            response = JSONResponse({"error": "log in first"}, 401)
        await response(scope, receive, send)
