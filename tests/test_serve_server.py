"""The uvicorn server under rag serve: connections a slow or stuck client opens do not last."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from conftest import build_collections

import rag
from eval.ports import listen_port
from rag.serve import RunningServer, ServeConfig
from rag.serve import capacity as capacity_module
from rag.serve import server as server_module


def closed_within(connection: socket.socket, seconds: float, trickle: bytes) -> bool:
    """Whether the server closes the connection within `seconds` while a byte of `trickle` arrives every 0.2 s."""
    connection.settimeout(0.2)
    deadline = time.monotonic() + seconds
    for byte in trickle:
        if time.monotonic() > deadline:
            return False
        try:
            if connection.recv(1024) == b"":
                return True
        except TimeoutError:
            pass
        except ConnectionError:
            return True
        try:
            connection.sendall(bytes([byte]))
        except OSError:
            return True
    return False


def test_headers_trickled_byte_by_byte_are_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "HEADER_SECONDS", 1.0)
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    server = RunningServer(ServeConfig(folders, port=listen_port()), embedder=embedder)
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with (
            socket.create_connection((host, int(port))) as silent,
            socket.create_connection((host, int(port))) as trickling,
        ):
            silent.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            assert closed_within(trickling, 4.0, b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100)
            silent.settimeout(2.0)
            assert silent.recv(1024) == b""
        assert httpx.get(server.url + "/healthz").status_code == 200  # whole requests still answered
    finally:
        server.stop()


def test_a_kept_alive_connection_is_timed_again_for_its_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "HEADER_SECONDS", 1.0)
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    server = RunningServer(ServeConfig(folders, port=listen_port()), embedder=embedder)
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            connection.settimeout(5)
            assert b" 200 " in connection.recv(4096)
            assert closed_within(connection, 4.0, b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100)
    finally:
        server.stop()


def test_past_the_connection_cap_a_request_gets_the_queues_json_429_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capacity_module, "SPARE_CONNECTIONS", 0)
    limits = rag.serve.Limits(workers=1, queue=3)
    assert capacity_module.connection_cap(limits) == 4  # the queue and its worker: it follows the queue
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    server = RunningServer(ServeConfig(folders, port=listen_port(), limits=limits), embedder=embedder)
    host, port = server.url.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port))) for _ in range(4)]
    try:
        for connection in held:  # connections that never finish a request, up to the cap
            connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.3)
        refused = httpx.get(server.url + "/healthz")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "server_busy"
        assert int(refused.headers["Retry-After"]) >= 1
        for connection in held:
            connection.close()
        time.sleep(0.3)
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        for connection in held:
            connection.close()
        server.stop()
