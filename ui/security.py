"""Safe-by-default server settings: upload limits, blocked paths, optional login."""

from __future__ import annotations

import contextvars
import hmac
import os
import sys
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rag


def blocked_paths(index_folder: Path, data_folders: Sequence[Path] = ()) -> list[str]:
    """Folders the web server must never serve: the index (with uploads) and the document folders."""
    paths = [index_folder, *data_folders]
    return sorted({str(path.resolve()) for path in paths} | {str(path.absolute()) for path in paths})


def auth_from_env() -> LoginCheck | None:
    """The login check when RAG_UI_USER and RAG_UI_PASSWORD are both set, else None."""
    user, password = os.environ.get("RAG_UI_USER", ""), os.environ.get("RAG_UI_PASSWORD", "")
    if bool(user) != bool(password):
        raise rag.RagError("set both RAG_UI_USER and RAG_UI_PASSWORD to require a login, or neither")
    return LoginCheck(user, password) if user else None


# The address of the client whose login attempt is being checked (set by LoginClient).
LOGIN_CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("login_client", default="")
# Clients whose failures are remembered at once; past it the longest-quiet ones are forgotten.
REMEMBERED_CLIENTS = 10_000


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class ThrottledLogin:
    """Gradio's auth callable over any check of (user, password), slowed down against guessing.

    Per client address (`LOGIN_CLIENT`): after FREE_ATTEMPTS failures in a row from one client,
    every attempt of that client, right or wrong, is refused for a pause that doubles with each
    further failure (1 s, 2 s, 4 s ... up to 5 minutes): a guesser gets a handful of tries a
    minute instead of hundreds a second, while everyone else still logs in. Behind a reverse
    proxy every client has the proxy's address, and they share one pause.
    """

    FREE_ATTEMPTS = 5
    FIRST_PAUSE_SECONDS = 1.0
    LONGEST_PAUSE_SECONDS = 300.0

    def __init__(
        self, is_right: Callable[[str, str], bool], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._is_right = is_right
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Failures] = {}

    @property
    def _failures(self) -> int:
        """Failures in a row of the current client."""
        return self._clients.get(LOGIN_CLIENT.get(), _Failures()).count

    def __call__(self, user: str, password: str) -> bool:
        client = LOGIN_CLIENT.get()
        with self._lock:
            now = self._clock()
            failures = self._clients.pop(client, None) or _Failures()
            self._clients[client] = failures  # last in the dict: the most recently seen
            if len(self._clients) > REMEMBERED_CLIENTS:
                del self._clients[next(iter(self._clients))]
            if now < failures.locked_until:
                return False
            if self._is_right(user, password):
                del self._clients[client]
                return True
            failures.count += 1
            if failures.count >= self.FREE_ATTEMPTS:
                doublings = failures.count - self.FREE_ATTEMPTS
                pause = min(self.LONGEST_PAUSE_SECONDS, self.FIRST_PAUSE_SECONDS * 2 ** min(doublings, 20))
                failures.locked_until = now + pause
                print(
                    f"login: {failures.count} failed attempts from {client or 'a client'}; "
                    f"its next is accepted in {pause:.0f} s",
                    file=sys.stderr,
                )
            return False


class LoginClient:
    """ASGI middleware: names the client address of each request for ThrottledLogin."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client") or ("", 0)
        token = LOGIN_CLIENT.set(str(client[0]))
        try:
            await self.app(scope, receive, send)
        finally:
            LOGIN_CLIENT.reset(token)


class LoginCheck(ThrottledLogin):
    """The standalone UI's login: one user name and password, compared in constant time."""

    def __init__(self, user: str, password: str, clock: Callable[[], float] = time.monotonic) -> None:
        expected_user, expected_password = user.encode(), password.encode()

        def is_right(given_user: str, given_password: str) -> bool:
            # Both compared, always: which one was wrong must not show in the timing.
            user_ok = hmac.compare_digest(given_user.encode("utf-8", "replace"), expected_user)
            password_ok = hmac.compare_digest(given_password.encode("utf-8", "replace"), expected_password)
            return user_ok and password_ok

        super().__init__(is_right, clock)


def pin_gradio_environment(environment: MutableMapping[str, str] = os.environ) -> list[str]:
    """Remove every GRADIO_* variable and return their names.

    Gradio reads many settings from the environment, and falls back to them when an argument
    looks unset (allowed_paths=[] reads GRADIO_ALLOWED_PATHS): they can serve any folder,
    change the temp folder it serves, bind, share, or enable editing. Verbatim passes every
    setting it needs as an argument, so none of them may come from the environment.
    """
    ignored = sorted(
        name for name in environment if name.startswith("GRADIO_") and name != "GRADIO_ANALYTICS_ENABLED"
    )
    for name in ignored:
        del environment[name]
    environment["GRADIO_ANALYTICS_ENABLED"] = "False"
    return ignored
