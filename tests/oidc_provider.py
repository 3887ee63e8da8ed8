"""A real OpenID Connect provider for the tests: oidc-provider-mock (a PyPI wheel) on 127.0.0.1.

It serves discovery, a JWKS, the authorization-code flow and a token endpoint whose ID tokens are
RS256 JWTs. Two test-only routes are added to its Flask app: one rotates the signing key, one
signs given claims with the current key (to make an expired token the provider itself signed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

import flask
import httpx
import oidc_provider_mock
import werkzeug.serving
from authlib import jose

from eval.ports import listen_port

# Where the flow says it would return: nothing listens there (the code is read from the redirect).
REDIRECT_URI = "http://127.0.0.1:9/callback"


class Provider:
    """The provider, running in a thread until stop()."""

    def __init__(self, users: Sequence[oidc_provider_mock.User]) -> None:
        app = oidc_provider_mock.app(user_claims=users)

        @app.post("/test/rotate")
        def rotate() -> Any:
            flask.g.oidc_provider_mock_storage.jwk = jose.RSAKey.generate_key(is_private=True)
            return "", 204

        @app.post("/test/sign")
        def sign() -> Any:
            key = flask.g.oidc_provider_mock_storage.jwk
            token = jose.jwt.encode({"alg": "RS256"}, flask.request.get_json(), key)
            return {"token": token.decode("ascii")}

        # What the login flows sent: the tests check that the UI's client used PKCE.
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []

        @app.before_request
        def remember() -> None:
            if flask.request.path == "/oauth2/authorize" and flask.request.method == "GET":
                self.authorize_requests.append(dict(flask.request.args))
            if flask.request.path == "/oauth2/token":
                self.token_requests.append(dict(flask.request.form))

        self._server = werkzeug.serving.make_server("127.0.0.1", listen_port(), app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def token(self, subject: str, client_id: str = "verbatim") -> str:
        """An ID token for the subject, through the authorization-code flow."""
        with httpx.Client(base_url=self.url, timeout=10) as http:
            authorized = http.post(
                "/oauth2/authorize",
                params={
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "response_type": "code",
                    "scope": "openid profile",
                },
                data={"sub": subject},
            )
            code = parse_qs(urlparse(authorized.headers["location"]).query)["code"][0]
            issued = http.post(
                "/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": client_id,
                    "client_secret": "any",
                },
            )
            issued.raise_for_status()
            return str(issued.json()["id_token"])

    def set_groups(self, subject: str, groups: list[str]) -> None:
        """Change a person's groups at the provider (their next token carries them)."""
        httpx.put(f"{self.url}/users/{subject}", json={"groups": groups, "email": f"{subject}@example.org"})

    def rotate_key(self) -> None:
        """Replace the provider's signing key; the old one is no longer published."""
        httpx.post(f"{self.url}/test/rotate").raise_for_status()

    def signed(self, claims: dict[str, Any]) -> str:
        """Claims signed with the provider's current key."""
        return str(httpx.post(f"{self.url}/test/sign", json=claims).json()["token"])

    def claims(self, subject: str, **changes: Any) -> dict[str, Any]:
        """Valid claims for the subject, with changes."""
        now = int(time.time())
        return {"iss": self.url, "aud": "verbatim", "sub": subject, "iat": now, "exp": now + 600, **changes}

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._thread.join(timeout=5)
