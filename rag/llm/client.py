"""A client for OpenAI-compatible chat-completions endpoints, standard library only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from http.client import HTTPResponse
from typing import Any

from rag.llm.base import LLMError, LLMResponseError, LLMUnavailableError, Message

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 10.0


def chat_url(base_url: str) -> str:
    """The chat-completions URL of a base URL; a bare host gets the usual /v1 prefix."""
    parsed = urllib.parse.urlparse(base_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LLMUnavailableError(
            f"LLM base URL {base_url!r} is not an http(s) URL; give e.g. http://localhost:11434/v1"
        )
    path = parsed.path.rstrip("/")
    if not path:
        path = "/v1"
    if not path.endswith("/chat/completions"):
        path += "/chat/completions"
    return urllib.parse.urlunparse(parsed._replace(path=path))


class OpenAIChatClient:
    """Chat completions over HTTP (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI...)."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str = "",
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.url = chat_url(base_url)
        self.name = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """Return the whole reply of a non-streaming request."""
        with self._post(self._payload(messages, max_tokens, stream=False)) as response:
            body = self._read(response)
        try:
            return str(json.loads(body)["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise LLMResponseError(f"{self.url} returned a malformed completion: {body[:200]!r}") from error

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        """Yield the reply's text pieces from a server-sent-events stream."""
        with self._post(self._payload(messages, max_tokens, stream=True)) as response:
            if "text/event-stream" not in response.headers.get("Content-Type", "text/event-stream"):
                # Some servers ignore stream=true and send one JSON completion.
                body = self._read(response)
                yield from _content_of_whole(body, self.url)
                return
            yield from self._events(response)

    def _events(self, response: HTTPResponse) -> Iterator[str]:
        while True:
            try:
                raw = response.readline()
            except TimeoutError as error:
                raise LLMUnavailableError(
                    f"{self.url} stopped sending for {self.timeout:g}s; raise the LLM timeout or check the server"
                ) from error
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments (":"), event names
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            piece = _delta_content(data, self.url)
            if piece:
                yield piece

    def _payload(self, messages: Sequence[Message], max_tokens: int, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": stream,
        }
        if self.name:
            payload["model"] = self.name
        return payload

    def _post(self, payload: dict[str, Any]) -> HTTPResponse:
        """Send the request, retrying 429 and 5xx answers with exponential backoff."""
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(payload).encode("utf-8")
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                response: HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
                return response
            except urllib.error.HTTPError as error:
                if error.code in RETRY_STATUSES and attempt < self.retries:
                    time.sleep(self._wait(attempt, error.headers.get("Retry-After")))
                    continue
                raise self._http_error(error) from error
            except urllib.error.URLError as error:
                raise LLMUnavailableError(
                    f"cannot reach the LLM at {self.url} ({error.reason}); is the server running?"
                ) from error
            except TimeoutError as error:
                raise LLMUnavailableError(
                    f"the LLM at {self.url} did not answer within {self.timeout:g}s"
                ) from error
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        try:
            asked = float(retry_after) if retry_after else 0.0
        except ValueError:
            asked = 0.0
        return min(MAX_RETRY_WAIT, max(asked, self.backoff * 2**attempt))

    def _http_error(self, error: urllib.error.HTTPError) -> LLMError:
        detail = _error_message(error.read())
        if error.code in (401, 403):
            return LLMUnavailableError(f"the LLM at {self.url} refused the API key ({detail}); check it")
        if error.code == 404:
            return LLMUnavailableError(
                f"the LLM at {self.url} does not know model {self.name!r} or the URL is wrong ({detail})"
            )
        if error.code in RETRY_STATUSES:
            return LLMUnavailableError(f"the LLM at {self.url} failed with HTTP {error.code} ({detail})")
        return LLMResponseError(f"the LLM at {self.url} rejected the request: HTTP {error.code} ({detail})")

    def _read(self, response: HTTPResponse) -> str:
        try:
            return response.read().decode("utf-8", errors="replace")
        except TimeoutError as error:
            raise LLMUnavailableError(f"the LLM at {self.url} timed out after {self.timeout:g}s") from error


def _delta_content(data: str, url: str) -> str:
    try:
        event = json.loads(data)
    except ValueError as error:
        raise LLMResponseError(f"{url} sent a malformed stream chunk: {data[:200]!r}") from error
    if not isinstance(event, dict):
        raise LLMResponseError(f"{url} sent a malformed stream chunk: {data[:200]!r}")
    if "error" in event:
        raise LLMResponseError(f"{url} reported an error mid-stream: {_error_message(data.encode())}")
    try:
        choices = event["choices"]
        if not choices:
            return ""  # usage-only chunks have no choices
        return str(choices[0].get("delta", {}).get("content") or "")
    except (KeyError, IndexError, TypeError, AttributeError) as error:
        raise LLMResponseError(f"{url} sent a malformed stream chunk: {data[:200]!r}") from error


def _content_of_whole(body: str, url: str) -> Iterator[str]:
    try:
        content = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise LLMResponseError(f"{url} returned a malformed completion: {body[:200]!r}") from error
    if content:
        yield str(content)


def _error_message(body: bytes) -> str:
    """The message of an OpenAI-style error body, else the start of the body."""
    text = body.decode("utf-8", errors="replace")
    try:
        error = json.loads(text).get("error")
        if isinstance(error, dict):
            return str(error.get("message", error))
        if error:
            return str(error)
    except (ValueError, AttributeError):
        pass
    return text[:200].strip() or "no details"
