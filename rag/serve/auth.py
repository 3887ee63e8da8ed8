"""Who is calling and which collections they may use: checked on every route and MCP tool."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rag.serve.errors import APIError
from rag.serve.keys import Access, KeyRing


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer KEY` header, or "" when there is none."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def caller_access(keys: KeyRing | None, authorization: str | None, served: Iterable[str]) -> Access:
    """The caller's Access: everything without a keys file, else the presented key's (401 if none)."""
    if keys is None:
        return Access.everything(served)
    key = bearer_key(authorization)
    if not key:
        raise APIError(
            401, "give an API key: Authorization: Bearer KEY", "missing_api_key", headers=_challenge()
        )
    access = keys.access_for(key)
    if access is None:
        raise APIError(401, "the API key is not valid", "invalid_api_key", headers=_challenge())
    return access


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="verbatim"'}


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
