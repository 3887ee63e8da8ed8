"""What the browser and server tests share: the Debian Chromium they drive, and the servers they
start (`python -m ui`, `rag serve`) as child processes on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from eval.ports import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# Committed screenshots change only on request; a plain test run writes beside the venv.
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("VERBATIM_UPDATE_SCREENSHOTS")
    else REPO / ".verbatim" / "screenshots"
)
START_TIMEOUT_SECONDS = 150
STOP_SECONDS = 15


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Debian Chromium, closed after."""
    from playwright.sync_api import sync_playwright  # loaded by the tests that drive a browser only

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Running:
    """A server started by start_server: its address (no trailing slash), process and log."""

    url: str
    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> None:
        """End the server (killed when it does not stop in STOP_SECONDS)."""
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    command: Sequence[str],
    log: Path,
    ready_path: str = "/healthz",
    env: Mapping[str, str | None] | None = None,
    port: int | None = None,
) -> Running:
    """Run `command --port N` (N free, or `port`) from the project folder, its output in `log`,
    until GET ready_path answers (an error status counts: behind a login it answers 401).
    `env` adds to this process's environment; a None value removes that variable."""
    port = port or free_port()
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    with log.open("w") as stream:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdout=stream,
            stderr=subprocess.STDOUT,
            text=True,
        )
    running = Running(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{' '.join(command[:4])} exited with {process.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(running.url + ready_path, timeout=5).close()
            return running
        except urllib.error.HTTPError:
            return running
        except OSError:
            time.sleep(0.3)
    running.stop()
    pytest.fail(
        f"{' '.join(command[:4])} did not answer within {START_TIMEOUT_SECONDS} s:\n{log.read_text()}"
    )


def rag_serve(*arguments: str) -> list[str]:
    """The command line of `rag serve ARGUMENTS` in this interpreter."""
    return [sys.executable, "-m", "rag", "serve", *arguments]


@dataclass
class Server:
    """A running `python -m ui` and what the tests need to know about it."""

    url: str  # with a trailing slash: the chat's page
    index: Path
    running: Running
    dialogs: list[str] = field(default_factory=list)

    @property
    def process(self) -> subprocess.Popen[str]:
        """The server's process."""
        return self.running.process

    @property
    def log(self) -> Path:
        """The server's output."""
        return self.running.log


def start_ui(
    workdir: Path,
    docs: list[Path],
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """Start the UI on a temp index of the given folders and wait until it answers HTTP."""
    index = workdir / "index"
    command = [sys.executable, "-m", "ui", "--index", str(index), "--host", "127.0.0.1"]
    for folder in docs:
        command += ["--docs", str(folder)]
    command += list(extra_args)
    # A login set for the whole run would guard every UI; the tests that want one pass it.
    env: dict[str, str | None] = {"RAG_UI_USER": None, "RAG_UI_PASSWORD": None}
    env |= {"GRADIO_TEMP_DIR": str(workdir / "gradio-tmp"), **(extra_env or {})}
    running = start_server(command, workdir / "server.log", "/", env, port)
    return Server(running.url + "/", index, running)


def stop_ui(server: Server) -> None:
    """Stop a server started by start_ui."""
    server.running.stop()
