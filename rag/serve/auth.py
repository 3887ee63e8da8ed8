"""Who is calling and which collections they may use: checked on every route and MCP tool."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rag.access.policy import AccessPolicy
from rag.access.tokens import TokenVerifier
from rag.errors import AuthenticationError
from rag.serve.errors import APIError
from rag.serve.keys import Access, KeyRing


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer KEY` header, or "" when there is none."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def caller_access(
    keys: KeyRing | None,
    authorization: str | None,
    served: Iterable[str],
    tokens: TokenVerifier | None = None,
    policy: AccessPolicy | None = None,
) -> Access:
    """The caller's Access: everything without keys or a provider; else the presented key's or
    token's (401 if none). An access file grants collections to the groups of either."""
    if keys is None and tokens is None:
        return Access.everything(served)
    credential = bearer_key(authorization)
    if not credential:
        raise APIError(
            401,
            "give an API key or a token: Authorization: Bearer ...",
            "missing_api_key",
            headers=_challenge(),
        )
    if tokens is not None and tokens.looks_like_token(credential):
        try:
            actor = tokens.actor(credential)
        except AuthenticationError as error:
            raise APIError(401, str(error), "invalid_token", headers=_challenge("invalid_token")) from None
        granted = Access(frozenset(), holder=actor.name, actor=actor)
    else:
        found = keys.access_for(credential) if keys is not None else None
        if found is None:
            raise APIError(401, "the API key is not valid", "invalid_api_key", headers=_challenge())
        granted = found
    if policy is None:
        return granted
    names = list(served)
    return granted.widened(policy.readable(granted.actor, names), policy.writable(granted.actor, names))


def _challenge(error: str = "") -> dict[str, str]:
    detail = f', error="{error}"' if error else ""
    return {"WWW-Authenticate": f'Bearer realm="verbatim"{detail}'}


def split_names(value: object, param: str) -> list[str]:
    """Collection names from "a,b" or ["a", "b"], in order, without repeats."""
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, list) and all(isinstance(name, str) for name in value):
        names = list(value)
    else:
        raise APIError(
            400, f"{param} must be a collection name, 'a,b' or a list of names", "invalid_request", param
        )
    cleaned = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not cleaned:
        raise APIError(400, f"{param} names no collection", "invalid_request", param)
    return cleaned


def readable(access: Access, requested: Sequence[str] | None, served: Sequence[str], param: str) -> list[str]:
    """The requested collections (default: every one the caller may read); 404 for any other.

    A collection the key may not read gets the same answer as one that does not exist, so a key
    learns nothing about collections outside its grant.
    """
    if requested is None:
        names = [name for name in served if name in access.readable]
        if not names:
            raise APIError(404, "this key may not read any collection", "model_not_found", param)
        return names
    for name in requested:
        if name not in access.readable:
            raise APIError(404, f"no collection named {name!r} for this key", "model_not_found", param)
    return list(requested)


def writable(access: Access, requested: str | None, served: Sequence[str]) -> str:
    """The collection a write goes to (default: the caller's only writable one); 403/404 otherwise."""
    if requested is None:
        names = [name for name in served if name in access.writable]
        if len(names) != 1:
            raise APIError(
                400, "name the collection: a `collection` form field", "invalid_request", "collection"
            )
        return names[0]
    if requested not in access.readable:
        raise APIError(404, f"no collection named {requested!r} for this key", "not_found", "collection")
    if requested not in access.writable:
        raise APIError(403, f"this key may read {requested!r} but not change it", "read_only", "collection")
    return requested
