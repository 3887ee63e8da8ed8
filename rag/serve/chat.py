"""OpenAI-compatible /v1/models and /v1/chat/completions whose answers keep their verified citations.

`model` names the collection (or several, comma-separated). The message content is the answer
with its [n] markers (and UNSUPPORTED_MARKER after a generated sentence no quote supports); the
response also carries `citations` (collection, source, title, page, offsets and the verbatim
quote), `sentences` (each checked sentence's support) and `answered`. Streamed, they arrive in
the last chunk.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from rag.access.identity import LOCAL_USER, Actor
from rag.answer.question import AskOptions, QuestionError, clean_text
from rag.serve.auth import readable, split_names
from rag.serve.collections import Collections
from rag.serve.errors import bad_request
from rag.serve.feedback import RecentAnswers
from rag.serve.keys import Access
from rag.serve.limits import MAX_MESSAGES
from rag.serve.requests import json_object, k_field, mode_field
from rag.serve.support import CheckedAnswer, checked_answer, marked_text
from rag.settings import RetrievalMode
from rag.types import Answer, Citation

CREATED = int(time.time())


@dataclass(frozen=True)
class ChatRequest:
    """A checked chat-completions request."""

    names: list[str]
    model: str
    question: str
    history: list[dict[str, str]]
    stream: bool
    k: int | None
    mode: RetrievalMode | None
    actor: Actor | None = None  # whose documents the answer may come from

    def options(self) -> AskOptions:
        """The question's options for answer_stream."""
        return AskOptions(history=self.history, k=self.k, retrieval_mode=self.mode, channel="api")


def list_models(collections: Collections, access: Access) -> dict[str, Any]:
    """The collections the caller may use, as OpenAI model objects."""
    data = [
        {"id": name, "object": "model", "created": CREATED, "owned_by": "verbatim"}
        for name in collections.names
        if name in access.readable
    ]
    return {"object": "list", "data": data}


def parse_chat_request(body: object, access: Access, served: Sequence[str]) -> ChatRequest:
    """Check a chat-completions body: 400 for a malformed field, 404 for a collection not granted."""
    request = json_object(body)
    model = request.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("`model` must name a collection (several: 'a,b'); see GET /v1/models", "model")
    names = readable(access, split_names(model, "model"), served, "model")
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("`messages` must be a non-empty list", "messages")
    if len(messages) > MAX_MESSAGES:
        raise bad_request(f"at most {MAX_MESSAGES} messages per request", "messages")
    turns = [_turn(message, index) for index, message in enumerate(messages)]
    if turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise bad_request("the last message must be the user's question", "messages")
    try:  # checked here, before a stream starts, by the same rule every question meets
        question = clean_text(turns[-1]["content"])
    except QuestionError as error:
        raise bad_request(str(error), "messages") from None
    if request.get("n", 1) != 1:
        raise bad_request("only n=1 is supported", "n")
    history = [turn for turn in turns[:-1] if turn["role"] in ("user", "assistant")]
    stream = request.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("`stream` must be true or false", "stream")
    return ChatRequest(
        names, ",".join(names), question, history, stream, k_field(request), mode_field(request), access.actor
    )


def _turn(message: object, index: int) -> dict[str, str]:
    param = f"messages[{index}]"
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise bad_request(f"{param} must be an object with a role and content", param)
    content = message.get("content")
    if isinstance(content, list):  # content parts: keep the text ones
        content = "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise bad_request(f"{param}.content must be a string or a list of text parts", param)
    return {"role": message["role"], "content": content}


def citation_json(citation: Citation) -> dict[str, Any]:
    """One citation as the API returns it: where the verbatim quote is, and the quote."""
    return {
        "number": citation.number,
        "collection": citation.collection,
        "source": citation.source,
        "title": citation.title,
        "page": citation.page,
        "location": citation.location,
        "document_id": citation.quote.document_id,
        "start": citation.start,
        "end": citation.end,
        "quote": citation.quote.text,
    }


def evidence_json(answer: Answer, checked: CheckedAnswer) -> dict[str, Any]:
    """The fields a chat completion adds to OpenAI's: citations, answered, the query used, notices,
    each checked sentence with its support, a number computed from quoted table rows (its formula
    and rounding; null for any other answer), and a compound question's parts, each with its own
    citations ([] for a single question)."""
    return {
        "citations": [citation_json(citation) for citation in answer.citations],
        "answered": checked.answered,
        "query": answer.query,
        "notice": checked.notice,
        "sentences": checked.sentences,
        "computation": answer.computation.to_dict() if answer.computation else None,
        "answer_id": answer.id,
        "parts": [
            {
                "question": part.question,
                "answer": part.text,
                "answered": part.answered,
                "query": part.query,
                "citations": [citation_json(citation) for citation in part.citations],
            }
            for part in answer.parts
        ],
    }


def _envelope(kind: str, completion_id: str, model: str, choice: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, **choice}],
    }


def _new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(
    collections: Collections, request: ChatRequest, recent: RecentAnswers | None = None
) -> dict[str, Any]:
    """The whole chat completion; `recent` remembers its answer by the completion's id, for feedback."""
    selection = collections.select(request.names, request.actor)
    answer = selection.ask(request.question, request.options())
    collections.trail.asked(request.actor or LOCAL_USER, request.names, request.question, answer)
    checked = checked_answer(answer, selection.settings.drop_unsupported)
    completion_id = _new_id()
    if recent is not None:
        recent.remember(answer, request.names, completion_id, history=request.history)
    choice = {"message": {"role": "assistant", "content": checked.text}, "finish_reason": "stop"}
    return _envelope("chat.completion", completion_id, request.model, choice) | evidence_json(answer, checked)


def completion_chunks(
    collections: Collections, request: ChatRequest, recent: RecentAnswers | None = None
) -> Generator[dict[str, Any], None, None]:
    """The completion as chunks: text deltas as the answer grows, then the evidence in the last one.

    When verification rewrites the streamed text (llm mode), the last chunk's `content` holds
    the verified answer that replaces it.
    """
    completion_id = _new_id()
    yield _envelope(
        "chat.completion.chunk",
        completion_id,
        request.model,
        {"delta": {"role": "assistant", "content": ""}, "finish_reason": None},
    )
    sent = ""
    final: Answer | None = None
    selection = collections.select(request.names, request.actor)
    drop_unsupported = selection.settings.drop_unsupported
    for final in selection.ask_stream(request.question, request.options()):
        text = marked_text(final, drop_unsupported)
        if text.startswith(sent) and len(text) > len(sent):
            delta = text[len(sent) :]
            sent = text
            yield _envelope(
                "chat.completion.chunk",
                completion_id,
                request.model,
                {"delta": {"content": delta}, "finish_reason": None},
            )
    assert final is not None, "ask_stream yields at least one answer"
    if recent is not None:
        recent.remember(final, request.names, completion_id, history=request.history)
    collections.trail.asked(request.actor or LOCAL_USER, request.names, request.question, final)
    last = _envelope(
        "chat.completion.chunk", completion_id, request.model, {"delta": {}, "finish_reason": "stop"}
    )
    checked = checked_answer(final, drop_unsupported)
    yield last | evidence_json(final, checked) | {"content": checked.text}
