"""`rag serve --ui` in a real Chromium: the chat at /ui beside the API, with a collection picker."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from browser import REPO, rag_serve, start_server
from conftest import build_collections
from playwright.sync_api import Browser, Page

import rag

pytestmark = pytest.mark.browser

ADMIN_KEY = "admin-key-for-everything"
READER_KEY = "alpha-reader-key-0001"
SCREENSHOTS = REPO / ".verbatim" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve --ui` over alpha and beta, with keys; the fake embedder keeps it quick."""
    root = tmp_path_factory.mktemp("mounted")
    folders = build_collections(root, rag.HashingEmbedder(256))
    keys = root / "keys.json"
    keys.write_text(json.dumps({ADMIN_KEY: {"write": ["*"]}, READER_KEY: ["alpha"]}))
    command = rag_serve("--ui", "--model", "hashing-256", "--keys", str(keys))
    command += ["--collection", f"alpha={folders['alpha']}", "--collection", f"beta={folders['beta']}"]
    running = start_server(command, root / "server.log", "/ui/")
    yield running.url
    running.stop()


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
