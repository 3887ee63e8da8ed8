"""`rag serve --ui` in a real Chromium: the chat at /ui beside the API, with a collection picker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import build_collections
from playwright.sync_api import Browser, Page, sync_playwright

import rag

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ADMIN_KEY = "admin-key-for-everything"
READER_KEY = "alpha-reader-key-0001"
SCREENSHOTS = REPO / ".verbatim" / "screenshots"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve --ui` over alpha and beta, with keys; the fake embedder keeps it quick."""
    root = tmp_path_factory.mktemp("mounted")
    folders = build_collections(root, rag.HashingEmbedder(256))
    keys = root / "keys.json"
    keys.write_text(json.dumps({ADMIN_KEY: {"write": ["*"]}, READER_KEY: ["alpha"]}))
    port = free_port()
    command = [sys.executable, "-m", "rag", "serve", "--ui", "--model", "hashing-256", "--port", str(port)]
    command += ["--keys", str(keys), "--collection", f"alpha={folders['alpha']}"]
    command += ["--collection", f"beta={folders['beta']}"]
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"HF_HUB_OFFLINE": "1"}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/ui/", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail((root / "server.log").read_text())
        time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def log_in(browser: Browser, url: str, key: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/ui/")
    page.fill("input[type=text]", "someone")
    page.fill("input[type=password]", key)
    page.keyboard.press("Enter")
    return page


def test_picker_chooses_the_collections_that_answer(browser: Browser, server: str) -> None:
    page = log_in(browser, server, ADMIN_KEY)
    page.wait_for_selector("#question textarea", timeout=60_000)
    assert page.locator("#collections").is_visible()
    page.fill("#question textarea", "How long does a beta boat take to build?")
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#chatbot .answer.final", timeout=60_000)
    assert "nine months" in page.locator("#chatbot .answer.final").last.inner_text()
    assert "beta.md" in page.locator("#sources").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "serve-ui-collections.png"))
    # Only alpha picked: the boat question finds nothing about boats to quote.
    page.locator("#collections .token", has_text="beta").locator(".token-remove").click()
    page.fill("#question textarea", "How long does a beta boat take to build?")
    page.press("#question textarea", "Enter")
    page.wait_for_function("document.querySelectorAll('#chatbot .answer.final').length > 1", timeout=60_000)
    assert "beta.md" not in page.locator("#sources").inner_text()
    page.close()


def test_a_key_limited_to_some_collections_cannot_log_in(browser: Browser, server: str) -> None:
    page = log_in(browser, server, READER_KEY)
    page.wait_for_timeout(1500)
    assert page.locator("#question textarea").count() == 0
    page.close()
    assert (
        httpx.get(server + "/v1/models", headers={"Authorization": f"Bearer {READER_KEY}"}).status_code == 200
    )


def test_guessing_keys_at_the_login_is_slowed_down(server: str) -> None:
    codes = [
        httpx.post(
            server + "/ui/login", data={"username": "x", "password": f"wrong-{n}"}, timeout=10
        ).status_code
        for n in range(20)
    ]
    assert set(codes) == {400}
    # Paused after five failures: the right key waits too, so 300 guesses cannot be tried in seconds.
    right = httpx.post(server + "/ui/login", data={"username": "x", "password": ADMIN_KEY}, timeout=10)
    assert right.status_code == 400
