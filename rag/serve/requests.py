"""Reading the fields of a JSON request body: each bad field is a 400 that names it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.answer.question import MAX_QUESTION_CHARS
from rag.errors import SettingsError
from rag.serve.auth import readable, split_names
from rag.serve.errors import bad_request
from rag.serve.keys import Access
from rag.serve.limits import MAX_K
from rag.settings import RETRIEVAL_MODES, RetrievalMode, choice
from rag.terms import without_surrogates


def json_object(body: object) -> dict[str, Any]:
    """The body, which must be a JSON object."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, limit: int = MAX_QUESTION_CHARS) -> str:
    """A required non-empty string field of at most `limit` characters."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"`{name}` must be a non-empty string", name)
    if len(value) > limit:
        raise bad_request(f"`{name}` is {len(value)} characters; the limit is {limit}", name)
    return without_surrogates(value)  # an escaped lone surrogate cannot be searched or echoed


def k_field(body: dict[str, Any]) -> int | None:
    """The optional number of passages, 1..MAX_K."""
    value = body.get("k")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_K:
        raise bad_request(f"`k` must be an integer from 1 to {MAX_K}", "k")
    return value


def mode_field(body: dict[str, Any]) -> RetrievalMode | None:
    """The optional retrieval mode."""
    value = body.get("mode")
    if value is None:
        return None
    try:
        return choice(value, RETRIEVAL_MODES, "`mode`")
    except SettingsError:
        raise bad_request(f"`mode` must be one of {', '.join(RETRIEVAL_MODES)}", "mode") from None


def collections_field(
    body: dict[str, Any], access: Access, served: Sequence[str], name: str = "collections"
) -> list[str]:
    """The collections a request names (default: all the caller may read), each one readable."""
    value = body.get(name)
    requested = None if value is None else split_names(value, name)
    return readable(access, requested, served, name)
