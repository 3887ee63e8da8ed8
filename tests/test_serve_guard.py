"""The request guard: a key-less loopback server refuses other sites' pages and rebound host names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import build_collections
from starlette.responses import PlainTextResponse

import rag
from eval.ports import listen_port
from rag.serve import RunningServer, ServeConfig
from rag.serve.guard import RequestGuard

EVIL = "http://evil.example"
REBOUND_HOST = "rebind.evil.example"
QUESTION = {"model": "alpha", "messages": [{"role": "user", "content": "When is the alpha harvest?"}]}


def mount_page(app: Any, _service: Any) -> None:
    """A stand-in for the chat UI, mounted where it mounts."""
    app.mount("/ui", PlainTextResponse("the page"))


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A key-less server on 127.0.0.1, with a page mounted at /ui and one extra allowed host name."""
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path_factory.mktemp("keyless"), embedder)
    config = ServeConfig(folders, port=listen_port(), allowed_hosts=("rag.internal",))
    server = RunningServer(config, mount=mount_page, embedder=embedder)
    yield server
    server.stop()


def sources(server: RunningServer) -> list[str]:
    listing = httpx.get(server.url + "/v1/documents").json()
    return [document["source"] for document in listing["data"]]


def port_of(server: RunningServer) -> str:
    return server.url.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "browser_headers",
    [{"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}],
)
def test_a_form_upload_from_another_site_plants_nothing(
    keyless: RunningServer, browser_headers: dict[str, str]
) -> None:
    files = {"file": ("planted.txt", b"Planted by a web page.", "text/plain")}
    response = httpx.post(
        keyless.url + "/v1/documents", data={"collection": "alpha"}, files=files, headers=browser_headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"
    assert not any("planted" in source for source in sources(keyless))


def test_the_servers_own_page_and_plain_clients_may_still_upload(keyless: RunningServer) -> None:
    own = {"Origin": keyless.url, "Sec-Fetch-Site": "same-origin"}
    files = {"file": ("own.txt", b"Uploaded from the server's own page.", "text/plain")}
    assert (
        httpx.post(
            keyless.url + "/v1/documents", data={"collection": "alpha"}, files=files, headers=own
        ).status_code
        == 200
    )
    files = {"file": ("script.txt", b"Uploaded by a script.", "text/plain")}
    assert (
        httpx.post(keyless.url + "/v1/documents", data={"collection": "alpha"}, files=files).status_code
        == 200
    )


@pytest.mark.parametrize("route", ["/v1/search", "/v1/ask", "/v1/chat/completions"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_json_routes_refuse_a_body_a_page_could_send_without_asking(
    keyless: RunningServer, route: str, content_type: str | None
) -> None:
    body = b'{"query": "alpha harvest", "question": "When is the alpha harvest?", "model": "alpha", "messages": [{"role": "user", "content": "When?"}]}'
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = httpx.post(keyless.url + route, content=body, headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]


def test_a_json_question_from_a_foreign_page_is_refused(keyless: RunningServer) -> None:
    response = httpx.post(keyless.url + "/v1/chat/completions", json=QUESTION, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert httpx.post(keyless.url + "/v1/chat/completions", json=QUESTION).status_code == 200


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", "/v1/documents"),
        ("GET", "/v1/models"),
        ("POST", "/v1/search"),
        ("POST", "/mcp"),
        ("GET", "/ui/"),
        ("GET", "/ui/gradio_api/info"),
        ("GET", "/healthz"),
    ],
)
def test_a_rebound_host_name_is_refused_on_every_route(
    keyless: RunningServer, method: str, route: str
) -> None:
    headers = {"Host": f"{REBOUND_HOST}:{port_of(keyless)}", "Content-Type": "application/json"}
    response = httpx.request(method, keyless.url + route, headers=headers, content=b'{"query": "alpha"}')
    assert response.status_code == 421
    assert response.json()["error"]["code"] == "invalid_host"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "rag.internal"])
def test_loopback_names_and_allowed_hosts_are_answered(keyless: RunningServer, name: str) -> None:
    headers = {"Host": f"{name}:{port_of(keyless)}"}
    assert httpx.get(keyless.url + "/v1/documents", headers=headers).status_code == 200
    assert httpx.get(keyless.url + "/ui/", headers=headers).text == "the page"


def test_guard_holds_the_bound_address_and_opens_only_a_wildcard_bind_without_names() -> None:
    bound = RequestGuard.for_address("10.1.2.3")
    assert bound.refusal("GET", {"host": "10.1.2.3:8000"}) is None
    assert bound.refusal("GET", {"host": "[::1]:8000"}) is None
    assert bound.refusal("GET", {"host": "evil.example:8000"}) is not None
    assert bound.refusal("GET", {}) is not None
    assert RequestGuard.for_address("0.0.0.0").refusal("GET", {"host": "any.example"}) is None
    named = RequestGuard.for_address("0.0.0.0", ["rag.example.org"])
    assert named.refusal("GET", {"host": "rag.example.org"}) is None
    assert named.refusal("GET", {"host": "any.example"}) is not None


def test_a_navigation_from_another_site_may_open_a_page_but_not_post() -> None:
    guard = RequestGuard.for_address("127.0.0.1")
    link = {"host": "127.0.0.1:8000", "sec-fetch-site": "cross-site"}
    assert guard.refusal("GET", link) is None
    assert guard.refusal("POST", link) is not None
    assert guard.refusal("DELETE", link) is not None


def test_keyed_server_refuses_a_foreign_origin_too(tmp_path: Path) -> None:
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    keys = tmp_path / "keys.json"
    keys.write_text('{"alpha-reader-key-0001": ["alpha"]}')
    server = RunningServer(ServeConfig(folders, keys_file=keys, port=listen_port()), embedder=embedder)
    try:
        headers = {"Authorization": "Bearer alpha-reader-key-0001", "Origin": EVIL}
        assert (
            httpx.post(server.url + "/v1/search", json={"query": "alpha"}, headers=headers).status_code == 403
        )
    finally:
        server.stop()
