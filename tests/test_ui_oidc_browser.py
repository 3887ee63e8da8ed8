"""People log in to `rag serve --ui` through a real OpenID Connect provider, in a real Chromium, and
each sees and is answered only from their groups' documents; what they did is in `rag audit`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import oidc_provider_mock
import pytest
from browser import rag_serve, start_server
from oidc_provider import Provider
from playwright.sync_api import Browser, Page

import rag

pytestmark = [pytest.mark.browser, pytest.mark.oidc]

HANDBOOK = {
    "holidays.md": "Holidays are booked in the holiday planner before March. "
    "The research budget of each team is approved by its head. " * 4,
    "payroll-2026.md": "Salaries are paid on the 25th of each month by bank transfer. " * 4,
}
FINANCE = {
    "budget.md": "The research budget for 2026 is 1.2 million euros, approved in May. " * 4,
    "old-memo.md": "This memo about the canteen is out of date. " * 4,
}
ACCESS = """
[collections.handbook]
read = ["staff"]
[[collections.handbook.documents]]
match = "*payroll*"
read = ["hr"]

[collections.finance]
read = ["finance"]
write = ["finance"]
"""
USERS = [
    oidc_provider_mock.User(sub="alice", claims={"groups": ["staff"], "email": "alice@example.org"}),
    oidc_provider_mock.User(sub="fin", claims={"groups": ["finance"], "email": "fin@example.org"}),
]
QUESTION = "When is the research budget approved?"


@dataclass
class World:
    url: str
    provider: Provider
    folders: dict[str, Path]


def build(folder: Path, texts: dict[str, str]) -> Path:
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem(source, text) for source, text in texts.items()])
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("ui-oidc")
    folders = {"handbook": build(root / "handbook", HANDBOOK), "finance": build(root / "finance", FINANCE)}
    (root / "access.toml").write_text(ACCESS)
    provider = Provider(USERS)
    command = rag_serve("--ui", "--model", "hashing-256", "--access", str(root / "access.toml"))
    command += ["--oidc-issuer", provider.url, "--oidc-audience", "verbatim", "--oidc-client-id", "verbatim"]
    command += ["--ui-admin-group", "finance"]
    for name, folder in folders.items():
        command += ["--collection", f"{name}={folder}"]
    env: dict[str, str | None] = {"RAG_OIDC_CLIENT_SECRET": "the-client-secret"}
    running = start_server(command, root / "server.log", "/healthz", env)
    yield World(running.url, provider, folders)
    running.stop()
    provider.stop()


def log_in(browser: Browser, world: World, who: str) -> Page:
    """A fresh browser (its own cookies) logged in through the provider's login page."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(world.url + "/ui/")
    page.wait_for_url(f"{world.provider.url}/oauth2/authorize*", timeout=30_000)
    page.get_by_role("button", name=who, exact=True).click()
    page.wait_for_selector("#question textarea", timeout=60_000)
    return page


def ask(page: Page, question: str) -> tuple[str, str]:
    """(the answer, the Sources panel) after asking in the chat."""
    before = page.locator("#chatbot .answer.final").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chatbot .answer.final').length > {before}", timeout=60_000
    )
    return page.locator("#chatbot .answer.final").last.inner_text(), page.locator("#sources").inner_text()


def documents_tab(page: Page) -> str:
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_function("document.querySelector('#documents').innerText.includes('.md')", timeout=30_000)
    return page.locator("#documents").inner_text()


def audit(folder: Path) -> list[dict[str, object]]:
    shown = subprocess.run(
        [sys.executable, "-m", "rag", "audit", "--index", str(folder), "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    return list(json.loads(shown.stdout))


def test_without_a_login_nothing_of_the_page_is_served(world: World) -> None:
    page = httpx.get(world.url + "/ui/", timeout=10)
    assert page.status_code == 303 and page.headers["location"] == "/ui/auth/login"
    for path in ("/ui/config", "/ui/gradio_api/info", "/ui/gradio_api/queue/join"):
        assert httpx.get(world.url + path, timeout=10).status_code == 401
    forged = httpx.get(world.url + "/ui/config", cookies={"verbatim_session": "made-up"}, timeout=10)
    assert forged.status_code == 401
    # A callback that no login of this browser started is refused, and the refusal is audited.
    stray = httpx.get(
        world.url + "/ui/auth/callback", params={"code": "made-up", "state": "made-up"}, timeout=10
    )
    assert stray.status_code == 400 and "did not complete" in stray.text
    assert "verbatim_session" not in stray.headers.get("set-cookie", "")


def test_two_people_see_and_are_answered_only_from_their_groups_documents(
    browser: Browser, world: World
) -> None:
    alice = log_in(browser, world, "alice")
    fin = log_in(browser, world, "fin")
    assert alice.locator("#person-name").inner_text() == "alice@example.org"
    assert fin.locator("#person-name").inner_text() == "fin@example.org"
    # What the page is built from names no collection or document: each person's share comes later.
    config = alice.context.request.get(world.url + "/ui/config").text()
    assert not any(word in config for word in ("finance", "budget", "payroll", "holidays"))
    # The same question: each is answered from their own groups' documents only.
    answer, sources = ask(alice, QUESTION)
    assert "holidays.md" in sources and "approved by its head" in answer
    assert "budget.md" not in sources and "1.2 million" not in answer + sources
    answer, sources = ask(fin, QUESTION)
    assert "budget.md" in sources and "May" in answer
    assert "holidays.md" not in sources and "approved by its head" not in answer
    # Nor can anyone list, pick or change what is not theirs.
    listed = documents_tab(alice)
    assert "holidays.md" in listed and "payroll" not in listed and "budget" not in listed
    assert not alice.locator("#collections").is_visible()  # one collection: no picker to show
    assert not alice.locator("#remove").is_visible()  # a reader may not remove
    listed = documents_tab(fin)
    assert "budget.md" in listed and "holidays" not in listed
    # Each person's conversations are kept by the server, listed, reopened and deleted; no one sees another's.
    alice.get_by_role("tab", name="Chat").click()
    alice.get_by_text("Your conversations").click()
    alice.locator("#history-new").click()
    alice.wait_for_function("document.querySelectorAll('#chatbot .answer.final').length === 0")
    ask(alice, "When are holidays booked?")
    alice.locator("#history-choice input").click()
    assert alice.locator("#history-choice li").count() == 2
    alice.locator("#history-choice li", has_text=QUESTION).click()
    alice.locator("#history-open").click()
    alice.wait_for_function(
        "document.querySelector('#chatbot').innerText.includes('approved by its head')"
        " && !document.querySelector('#chatbot').innerText.includes('holiday planner')"
    )
    alice.locator("#history-delete").click()
    alice.wait_for_timeout(500)
    alice.locator("#history-choice input").click()
    assert alice.locator("#history-choice li").all_inner_texts() == [
        text for text in alice.locator("#history-choice li").all_inner_texts() if "holidays booked" in text
    ]
    assert alice.locator("#history-choice li").count() == 1
    fin.get_by_role("tab", name="Chat").click()
    fin.get_by_text("Your conversations").click()
    fin.locator("#history-choice input").click()
    assert "holidays booked" not in " ".join(fin.locator("#history-choice li").all_inner_texts())
    fin.keyboard.press("Escape")
    # An admin sees everyone's audit trail in the UI; nobody else does.
    alice.get_by_role("tab", name="Audit").click()
    alice.wait_for_function("document.querySelector('#audit').innerText.includes('Only people in an admin')")
    fin.get_by_role("tab", name="Audit").click()
    fin.wait_for_function("document.querySelector('#audit').innerText.includes('alice@example.org')")
    assert "logged_in" in fin.locator("#audit").inner_text()
    fin.get_by_role("tab", name="Documents").click()
    # A writer removes a document of their collection.
    fin.locator("#remove-choice input").click()
    fin.locator("li", has_text="old-memo.md").click()
    fin.locator("#remove").click()
    fin.wait_for_function("document.querySelector('#remove-status').innerText.includes('Removed')")
    assert "old-memo" not in fin.locator("#documents").inner_text()
    # And adds one.
    note = world.folders["finance"].parent / "travel-budget.md"
    note.write_text("The travel budget for 2026 is 80,000 euros. " * 4)
    fin.set_input_files("#upload input[type=file]", [str(note)])
    fin.wait_for_timeout(500)
    fin.click("#ingest")
    fin.wait_for_function(
        "document.querySelector('#documents').innerText.includes('travel-budget.md')", timeout=60_000
    )
    # Logging out ends the session: the next visit goes back to the provider.
    fin.locator("#log-out").click()
    fin.wait_for_selector("#login-message", timeout=30_000)
    assert "logged out" in fin.locator("#login-message").inner_text()
    fin.goto(world.url + "/ui/")
    fin.wait_for_url(f"{world.provider.url}/oauth2/authorize*", timeout=30_000)
    alice.close()
    fin.close()
    # The login used PKCE (S256) and the code's verifier matched its challenge.
    first = world.provider.authorize_requests[0]
    assert first["code_challenge_method"] == "S256"
    verifiers = [request.get("code_verifier", "") for request in world.provider.token_requests]
    # The last flow (after the log-out) was not completed: it never reached the token endpoint.
    completed = world.provider.authorize_requests[: len(verifiers)]
    challenges = {request["code_challenge"] for request in completed}
    digests = {
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        for verifier in verifiers
    }
    assert len(verifiers) == 2 and all(verifiers) and challenges == digests


def test_the_audit_trail_shows_the_logins_questions_quotes_and_changes(world: World) -> None:
    handbook = audit(world.folders["handbook"])
    finance = audit(world.folders["finance"])
    actions = {(event["actor"], event["action"]) for event in handbook}
    assert {("alice@example.org", "logged_in"), ("alice@example.org", "asked")} <= actions
    refused = [event["detail"] for event in handbook if event["action"] == "refused"]
    assert any(str(detail["reason"]).startswith("login ") for detail in refused if isinstance(detail, dict))
    assert not any(event["actor"] == "fin@example.org" for event in handbook)
    asked = next(event for event in handbook if event["action"] == "asked")
    detail = asked["detail"]
    assert isinstance(detail, dict) and detail["question"] == QUESTION
    assert [quote["source"] for quote in detail["quoted"]] == ["holidays.md"] * len(detail["quoted"])
    actions = [(event["actor"], event["action"]) for event in finance]
    for action in ("logged_in", "asked", "removed", "added", "logged_out"):
        assert ("fin@example.org", action) in actions
    removed = next(event for event in finance if event["action"] == "removed")
    assert removed["detail"] == {"source": "old-memo.md"}
    added = next(event for event in finance if event["action"] == "added")
    detail = added["detail"]
    assert isinstance(detail, dict) and [Path(str(source)).name for source in detail["files"]] == [
        "travel-budget.md"
    ]
