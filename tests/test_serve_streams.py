"""A client that drops a stream does not free its worker slot while its work goes on (issue 26 D4)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import build_collections

import rag
from eval.ports import listen_port
from rag.serve import Limits, RunningServer, ServeConfig
from rag.serve import chat as chat_module


class SlowAnswers:
    """Chat chunks that take `step_seconds` each, counting the generations alive at once."""

    def __init__(self, steps: int, step_seconds: float) -> None:
        self.steps = steps
        self.step_seconds = step_seconds
        self.lock = threading.Lock()
        self.live = 0
        self.peak = 0
        self.errors: list[BaseException] = []

    def __call__(self, *_: Any) -> Generator[dict[str, Any], None, None]:
        with self.lock:
            self.live += 1
            self.peak = max(self.peak, self.live)
        try:
            for number in range(self.steps):
                time.sleep(self.step_seconds)
                yield {"choices": [{"index": 0, "delta": {"content": f"word{number} "}}]}
        finally:
            with self.lock:
                self.live -= 1


def read_two_events_then_hang_up(host: str, port: int) -> None:
    body = json.dumps({"model": "alpha", "messages": [{"role": "user", "content": "x?"}], "stream": True})
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while received.count(b"data: ") < 2:
            piece = connection.recv(4096)
            if not piece:
                break
            received += piece


@pytest.mark.parametrize("workers", [1])
def test_dropped_streams_never_run_more_answers_than_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    answers = SlowAnswers(steps=20, step_seconds=0.4)
    monkeypatch.setattr(chat_module, "completion_chunks", answers)
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    server = RunningServer(
        ServeConfig({"alpha": folders["alpha"]}, port=listen_port(), limits=Limits(workers=workers)),
        embedder=embedder,
    )
    host, port = server.url.removeprefix("http://").split(":")
    try:
        for _ in range(6):
            read_two_events_then_hang_up(host, int(port))
        assert answers.peak <= workers
        deadline = time.monotonic() + 3
        while answers.live and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answers.live == 0  # a dropped stream's work stops after its running step
        response = httpx.get(server.url + "/v1/models", timeout=10)
        assert response.status_code == 200  # and every slot was given back
        assert server.service.gate.running == 0
    finally:
        server.stop()
