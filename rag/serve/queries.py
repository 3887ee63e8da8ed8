"""Retrieval-only search, whole answers and statistics over the caller's collections (HTTP and MCP)."""

from __future__ import annotations

from typing import Any

from rag.answer.question import AskOptions
from rag.serve.collections import Collections
from rag.serve.errors import bad_request
from rag.serve.feedback import RecentAnswers
from rag.serve.keys import Access
from rag.serve.requests import collections_field, json_object, k_field, mode_field, text_field
from rag.serve.support import checked_answer
from rag.types import Passage

# Folders on the server's disk are not the caller's business.
_PRIVATE_STATS = ("index",)


def passage_json(passage: Passage) -> dict[str, Any]:
    """One retrieved passage with its collection, source and offsets."""
    return passage.to_dict()


def search(collections: Collections, access: Access, body: object) -> dict[str, Any]:
    """POST /v1/search {query, collections?, k?, mode?}: the best passages, no answer."""
    request = json_object(body)
    query = text_field(request, "query")
    names = collections_field(request, access, collections.names)
    passages = collections.select(names, access.actor).search(query, k_field(request), mode_field(request))
    collections.trail.searched(access.actor, names, query, passages)
    return {
        "object": "list",
        "query": query,
        "collections": names,
        "data": [passage_json(p) for p in passages],
    }


def ask(
    collections: Collections,
    access: Access,
    body: object,
    recent: RecentAnswers | None = None,
    channel: str = "api",
) -> dict[str, Any]:
    """POST /v1/ask {question, collections?, history?, k?, mode?}: Answer.to_dict(), its text,
    `answered` and notice as checked_answer gives them; its `id` is what POST /v1/feedback names
    while `recent` remembers it. The question log records it under `channel` (api, or mcp)."""
    request = json_object(body)
    question = request.get("question")
    if not isinstance(question, str):
        raise bad_request("`question` must be a non-empty string", "question")
    names = collections_field(request, access, collections.names)
    history = request.get("history") or []
    if not isinstance(history, list):
        history = []
    options = AskOptions(
        history=history, k=k_field(request), retrieval_mode=mode_field(request), channel=channel
    )
    selection = collections.select(names, access.actor)
    answer = selection.ask(question, options)
    collections.trail.asked(access.actor, names, question, answer)
    if recent is not None:
        recent.remember(answer, names, history=history)
    checked = checked_answer(answer, selection.settings.drop_unsupported)
    return answer.to_dict() | {
        "answer": checked.text,
        "answered": checked.answered,
        "notice": checked.notice,
        "collections": names,
    }


def stats(collections: Collections, access: Access) -> dict[str, Any]:
    """GET /v1/stats: counts, model and sizes of each collection the caller may read."""
    result = {}
    for name in collections.names:
        if name in access.readable:
            values = collections.reader(name, access.actor).stats()
            result[name] = {key: value for key, value in values.items() if key not in _PRIVATE_STATS}
    return {"collections": result}
