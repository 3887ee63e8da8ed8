"""OpenID Connect bearer tokens: a JWT checked against the provider's published keys (PyJWT).

The one module that imports jwt. Discovery (`ISSUER/.well-known/openid-configuration`) names the
provider's `jwks_uri`; PyJWT's key client fetches and caches the keys and fetches them again when
a token names a key it does not know (the provider rotated its keys). Signature, issuer,
audience, expiry and not-before are all checked by PyJWT; nothing here parses a token by hand.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

import jwt

from rag.access.identity import Actor
from rag.errors import AuthenticationError, SettingsError

# Asymmetric algorithms only: a provider's public keys must never verify an HMAC token.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30  # clock skew between the provider and this server
DISCOVERY_TIMEOUT_SECONDS = 10


class TokenVerifier:
    """Turns a provider's bearer token into an Actor whose groups come from a configurable claim."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        groups_claim: str = "groups",
        refresh_cooldown: float = 30.0,
        leeway: float = LEEWAY_SECONDS,
    ) -> None:
        if not issuer.startswith(("https://", "http://")) or not audience:
            raise SettingsError("--oidc-issuer must be the provider's URL and --oidc-audience its client id")
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.groups_claim = groups_claim
        self.leeway = leeway
        self._refresh_cooldown = refresh_cooldown
        self._keys: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()
        self._last_refresh = 0.0

    @staticmethod
    def looks_like_token(credential: str) -> bool:
        """Whether a bearer credential is a JWT (three dot-separated parts) rather than an API key."""
        return credential.count(".") == 2

    def actor(self, token: str) -> Actor:
        """The person the token names, with their groups; AuthenticationError when it is not valid."""
        claims = self.claims(token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("the token names no subject")
        name = next(
            (
                claims[claim]
                for claim in ("email", "preferred_username")
                if isinstance(claims.get(claim), str)
            ),
            subject,
        )
        return Actor(str(name), frozenset(_groups(claims, self.groups_claim)), "person")

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token."""
        try:
            header = jwt.get_unverified_header(token)
            keys = self._signing_keys(header.get("kid"))
            return self._decode(token, keys)
        except jwt.InvalidSignatureError:
            keys = self._refreshed_keys()  # the provider may have rotated its keys since
            if not keys:
                raise AuthenticationError("the token's signature is not valid") from None
            try:
                return self._decode(token, keys)
            except jwt.PyJWTError as error:
                raise AuthenticationError(_reason(error)) from None
        except jwt.PyJWTError as error:
            raise AuthenticationError(_reason(error)) from None

    def _decode(self, token: str, keys: Sequence[jwt.PyJWK]) -> dict[str, Any]:
        failure: jwt.PyJWTError = jwt.InvalidSignatureError("no key")
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=list(ALGORITHMS),
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                )
                return claims
            except jwt.InvalidSignatureError as error:
                failure = error  # a key set may hold several keys: try the next one
        raise failure

    def _signing_keys(self, key_id: object) -> list[jwt.PyJWK]:
        client = self._client()
        if isinstance(key_id, str) and key_id:
            return [client.get_signing_key(key_id)]  # fetched again when unknown: key rotation
        # A token without a key id (some providers, one key at a time): every published key.
        return client.get_signing_keys()

    def _refreshed_keys(self) -> list[jwt.PyJWK]:
        with self._lock:
            if time.monotonic() - self._last_refresh < self._refresh_cooldown:
                return []
            self._last_refresh = time.monotonic()
        try:
            return self._client().get_signing_keys(refresh=True)
        except jwt.PyJWKClientError:
            return []

    def _client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(
                    self._jwks_uri(), cache_keys=False, lifespan=300, cooldown_duration=self._refresh_cooldown
                )
            return self._keys

    def _jwks_uri(self) -> str:
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=DISCOVERY_TIMEOUT_SECONDS) as response:
                discovered = json.loads(response.read())
        except (OSError, ValueError) as error:
            raise AuthenticationError(
                f"the identity provider's discovery at {url} failed ({error})"
            ) from error
        if discovered.get("issuer", "").rstrip("/") != self.issuer or not isinstance(
            discovered.get("jwks_uri"), str
        ):
            raise AuthenticationError(f"{url} does not describe the issuer {self.issuer}")
        return str(discovered["jwks_uri"])


def _groups(claims: dict[str, Any], claim: str) -> list[str]:
    """The groups in a claim, which may be nested with dots (Keycloak: `realm_access.roles`)."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [group for group in value if isinstance(group, str)]
    return []


def _reason(error: Exception) -> str:
    """What a caller is told: the kind of failure, never the token or the key."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(error, jwt.InvalidAudienceError):
        return "the token is for another audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "the token is from another issuer"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the token's signature is not valid"
    if isinstance(error, jwt.PyJWKClientError):
        return "the token is signed with a key the provider does not publish"
    return "the token is not valid"
