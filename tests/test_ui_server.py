"""The real server with hostile Gradio variables in its environment: none of them takes effect."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from eval.ports import free_port

HOSTILE_ENVIRONMENT = {
    "GRADIO_ALLOWED_PATHS": "/etc",
    "GRADIO_SERVER_NAME": "0.0.0.0",
    "GRADIO_SHARE": "True",
    "GRADIO_MCP_SERVER": "True",
    "GRADIO_ROOT_PATH": "http://attacker.invalid",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("ui-server")
    log = workdir / "server.log"
    port = free_port()
    command = [sys.executable, "-m", "ui", "--index", str(workdir / "index"), "--port", str(port)]
    environment = (
        os.environ | HOSTILE_ENVIRONMENT | {"HF_HUB_OFFLINE": "1", "RAG_EMBEDDING_MODEL": "hashing-256"}
    )
    with log.open("w") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if "is running at" in log.read_text() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, log.read_text()
        yield url, log
    finally:
        process.terminate()
        process.wait(30)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_gradio_allowed_paths_from_the_environment_serve_nothing(server: tuple[str, Path]) -> None:
    url, _ = server
    for route in ("/gradio_api/file=/etc/passwd", "/file=/etc/passwd", "/gradio_api/file=/etc/hostname"):
        assert status_of(url + route) in (403, 404), route


def test_the_server_says_which_variables_it_ignored_and_binds_locally(server: tuple[str, Path]) -> None:
    url, log = server
    text = log.read_text()
    assert "Ignoring GRADIO_ALLOWED_PATHS, GRADIO_MCP_SERVER" in text
    assert "is running at http://127.0.0.1:" in text and "gradio.live" not in text
    assert status_of(url + "/gradio_api/mcp/sse") == 404
