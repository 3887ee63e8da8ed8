"""People from a real OpenID Connect provider: tokens checked, and every route confined to what
each person's groups may read (the leak matrix), as if forbidden documents did not exist."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import jwt
import oidc_provider_mock
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oidc_provider import Provider

import rag
from eval.ports import listen_port
from rag.serve import RunningServer, ServeConfig
from rag.serve.service import OidcConfig

pytestmark = pytest.mark.oidc

HANDBOOK = {
    "handbook/holidays.md": "Holidays are booked in the holiday planner before March. "
    "Unused holidays expire at the end of the year. " * 6,
    "handbook/payroll-2026.md": "Salaries are paid on the 25th of each month by bank transfer. "
    "The holiday bonus is paid in June with the salary. " * 6,
    "handbook/travel.md": "Travel costs are refunded within a month when the receipts are attached. " * 6,
}
FINANCE = {"finance/budget.md": "The research budget for 2026 is 1.2 million euros, approved in May. " * 6}
ACCESS = """
[collections.handbook]
read = ["staff"]
write = ["editors"]
[[collections.handbook.documents]]
match = "*payroll*"
read = ["hr"]

[collections.finance]
read = ["finance"]
"""
SERVICE_KEY = "service-key-for-staff-0001"
KEYS = {SERVICE_KEY: {"read": [], "groups": ["staff"], "name": "intranet-bot"}}
# Text only the payroll document holds (never in a question): a response holding it leaked.
PAYROLL_MARKERS = ("payroll", "25th", "bank transfer")
FINANCE_MARKERS = ("budget", "1.2 million")
QUESTIONS = ("When are salaries paid?", "When is the holiday bonus paid?", "holiday planner", "receipts")
USERS = [
    oidc_provider_mock.User(sub="alice", claims={"groups": ["staff"]}),
    oidc_provider_mock.User(sub="hana", claims={"groups": ["staff", "hr"]}),
    oidc_provider_mock.User(sub="fin", claims={"groups": ["finance"]}),
    oidc_provider_mock.User(sub="nobody", claims={"groups": []}),
    oidc_provider_mock.User(sub="eddie", claims={"groups": ["staff", "editors"]}),
]


class World:
    """The provider, the server and a reference index built without the payroll document."""

    def __init__(self, provider: Provider, server: RunningServer, reference: rag.KnowledgeBase) -> None:
        self.provider = provider
        self.server = server
        self.url = server.url
        self.reference = reference

    def client(self, credential: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {credential}"}, timeout=30)


def build(folder: Path, embedder: rag.Embedder, texts: dict[str, str]) -> Path:
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem(source, text) for source, text in texts.items()])
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("oidc")
    embedder = rag.HashingEmbedder(256)
    folders = {
        "handbook": build(root / "handbook", embedder, HANDBOOK),
        "finance": build(root / "finance", embedder, FINANCE),
    }
    without = {source: text for source, text in HANDBOOK.items() if "payroll" not in source}
    reference = rag.open(build(root / "reference", embedder, without), embedder=embedder)
    (root / "access.toml").write_text(ACCESS)
    (root / "keys.json").write_text(json.dumps(KEYS))
    provider = Provider(USERS)
    config = ServeConfig(
        folders,
        keys_file=root / "keys.json",
        port=listen_port(),
        access_file=root / "access.toml",
        oidc=OidcConfig(provider.url, "verbatim", refresh_cooldown=0.0),
    )
    server = RunningServer(config, embedder=embedder)
    yield World(provider, server, reference)
    server.stop()
    provider.stop()
    reference.close()


async def mcp_calls(url: str, credential: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {credential}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        results = [
            await client.call_tool("search", {"query": QUESTIONS[0]}),
            await client.call_tool("ask", {"question": QUESTIONS[1]}),
            await client.call_tool("list_documents", {}),
        ]
    return [
        dict(result.structured_content)
        if result.structured_content is not None
        else {"text": str(result.content)}
        for result in results
    ]


def every_route(world: World, credential: str) -> dict[str, str]:
    """The body of every reading route and MCP tool, for one caller."""
    seen: dict[str, str] = {}
    with world.client(credential) as http:
        seen["models"] = http.get("/v1/models").text
        seen["stats"] = http.get("/v1/stats").text
        seen["documents"] = http.get("/v1/documents").text
        for collection in ("handbook", "finance"):
            seen[f"documents?{collection}"] = http.get(
                "/v1/documents", params={"collection": collection}
            ).text
        for number, question in enumerate(QUESTIONS):
            seen[f"search {number}"] = http.post("/v1/search", json={"query": question, "k": 10}).text
            seen[f"ask {number}"] = http.post("/v1/ask", json={"question": question}).text
            for model in ("handbook", "finance", "handbook,finance"):
                body = {"model": model, "messages": [{"role": "user", "content": question}]}
                seen[f"chat {model} {number}"] = http.post("/v1/chat/completions", json=body).text
                seen[f"stream {model} {number}"] = http.post(
                    "/v1/chat/completions", json=body | {"stream": True}
                ).text
        payroll = world.server.service.collections.base("handbook").document("handbook/payroll-2026.md")
        seen["delete payroll"] = http.delete(
            "/v1/documents/payroll-2026.md", params={"collection": "handbook"}
        ).text
        seen["readers of payroll"] = http.put(
            "/v1/documents/payroll-2026.md/readers",
            params={"collection": "handbook"},
            json={"read": ["staff"]},
        ).text
        seen["payroll id"] = payroll.id  # not a response: the id must not appear in any response
    for name, result in zip(
        ("mcp search", "mcp ask", "mcp list"), asyncio.run(mcp_calls(world.url, credential)), strict=True
    ):
        seen[name] = json.dumps(result)
    return seen


def leaks(seen: dict[str, str], markers: tuple[str, ...]) -> list[str]:
    secret_id = seen["payroll id"]
    return [
        f"{route}: {marker}"
        for route, body in seen.items()
        if route != "payroll id"
        for marker in (*markers, secret_id)
        if marker in body.lower() or (marker == secret_id and marker in body)
    ]


@pytest.mark.parametrize(
    ("who", "forbidden"),
    [
        ("alice", PAYROLL_MARKERS + FINANCE_MARKERS),
        ("fin", PAYROLL_MARKERS),
        ("nobody", PAYROLL_MARKERS + FINANCE_MARKERS + ("holiday planner",)),
        ("key", PAYROLL_MARKERS + FINANCE_MARKERS),
    ],
)
def test_no_route_or_tool_shows_a_document_outside_the_callers_groups(
    world: World, who: str, forbidden: tuple[str, ...]
) -> None:
    credential = SERVICE_KEY if who == "key" else world.provider.token(who)
    seen = every_route(world, credential)
    assert leaks(seen, tuple(marker.lower() for marker in forbidden)) == []
    # What they may read, they do see: the matrix is not passing because nothing is answered.
    if who in ("alice", "key"):
        assert "holiday planner" in seen["search 2"].lower()
    if who == "fin":
        assert "1.2 million" in seen["search 0"].lower() or "1.2 million" in seen["mcp list"] + seen["ask 0"]


def test_a_person_in_the_group_sees_and_is_answered_from_the_narrowed_document(world: World) -> None:
    with world.client(world.provider.token("hana")) as http:
        found = http.post(
            "/v1/search", json={"query": "When are salaries paid?", "collections": ["handbook"]}
        )
        listed = http.get("/v1/documents").json()["data"]
    assert found.json()["data"][0]["source"] == "handbook/payroll-2026.md"
    assert "handbook/payroll-2026.md" in {item["source"] for item in listed}
    assert "finance/budget.md" not in {item["source"] for item in listed}


def test_ranks_answers_and_refusals_are_those_of_an_index_without_the_document(world: World) -> None:
    with world.client(world.provider.token("alice")) as http:
        for question in QUESTIONS:
            found = http.post(
                "/v1/search", json={"query": question, "collections": ["handbook"], "k": 5}
            ).json()
            expected = world.reference.search(question, k=5)
            assert [(p["source"], p["start"], p["rank"]) for p in found["data"]] == [
                (p.source, p.start, p.rank) for p in expected
            ], question
            answer = http.post("/v1/ask", json={"question": question, "collections": ["handbook"]}).json()
            reference = world.reference.ask(question)
            assert (answer["answered"], answer["answer"]) == (reference.answered, reference.text), question


def test_to_a_writer_a_forbidden_document_and_a_missing_one_are_the_same_404(world: World) -> None:
    with world.client(world.provider.token("eddie")) as http:
        answers = [
            http.request(
                method, f"/v1/documents/{name}{suffix}", params={"collection": "handbook"}, json=body
            )
            for name in ("payroll-2026.md", "nothing-2026.md")
            for method, suffix, body in (("DELETE", "", None), ("PUT", "/readers", {"read": ["staff"]}))
        ]
    assert [answer.status_code for answer in answers] == [404] * 4
    messages = [answer.json()["error"]["message"].replace("payroll", "nothing") for answer in answers]
    assert messages[0] == messages[2] and messages[1] == messages[3]
    assert world.server.service.collections.base("handbook").document("handbook/payroll-2026.md")


def test_a_writer_narrows_a_document_through_the_api(world: World) -> None:
    alice = world.provider.token("alice")
    with world.client(world.provider.token("eddie")) as editor, world.client(alice) as reader:
        narrowed = editor.put(
            "/v1/documents/travel.md/readers", params={"collection": "handbook"}, json={"read": ["editors"]}
        )
        assert narrowed.status_code == 200, narrowed.text
        assert "travel" not in reader.get("/v1/documents").text
        assert "travel" in editor.get("/v1/documents").text
        lifted = editor.put(
            "/v1/documents/travel.md/readers", params={"collection": "handbook"}, json={"read": None}
        )
        assert lifted.status_code == 200
        assert "travel" in reader.get("/v1/documents").text


def test_expired_foreign_audience_and_forged_tokens_are_refused(world: World) -> None:
    provider = world.provider
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "expired": provider.signed(
            provider.claims("alice", groups=["staff"], exp=1_000_000_000, iat=999_999_000)
        ),
        "other audience": provider.token("alice", client_id="another-app"),
        "other issuer": provider.signed(provider.claims("alice", iss="http://127.0.0.1:1")),
        "forged signature": jwt.encode(provider.claims("alice", groups=["hr"]), other_key, algorithm="RS256"),
        "unsigned": jwt.encode(provider.claims("alice", groups=["hr"]), None, algorithm="none"),
        "altered": _altered(provider.token("alice")),
    }
    for name, token in refused.items():
        with world.client(token) as http:
            response = http.post("/v1/search", json={"query": "salaries"})
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] in ("invalid_token", "invalid_api_key"), name
    with world.client(provider.token("alice")) as http:
        assert http.post("/v1/search", json={"query": "salaries"}).status_code == 200


def _altered(token: str) -> str:
    """The token with its claims replaced (groups widened) and the signature kept."""
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"groups": ["hr", "finance"]}
    body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{body}.{signature}"


def test_a_rotated_key_is_fetched_and_the_retired_one_refused(world: World) -> None:
    before = world.provider.token("alice")
    with world.client(before) as http:
        assert http.get("/v1/models").status_code == 200
    world.provider.rotate_key()
    with world.client(world.provider.token("alice")) as http:
        assert http.get("/v1/models").status_code == 200
    with world.client(before) as http:
        assert http.get("/v1/models").status_code == 401


def test_a_removed_group_membership_counts_from_the_next_token(world: World) -> None:
    world.provider.set_groups("hana", ["staff"])
    try:
        with world.client(world.provider.token("hana")) as http:
            found = http.post("/v1/search", json={"query": "When are salaries paid?", "k": 10}).text
        assert "payroll" not in found
    finally:
        world.provider.set_groups("hana", ["staff", "hr"])


def test_the_audit_trail_names_who_asked_what_was_quoted_changed_and_was_refused(world: World) -> None:
    store = world.server.service.collections.base("handbook").store
    start = len(store.audit_events())
    with world.client(world.provider.token("hana")) as http:
        answer = http.post(
            "/v1/ask", json={"question": "When are salaries paid?", "collections": ["handbook"]}
        )
    with world.client(world.provider.token("alice")) as http:
        assert http.post("/v1/search", json={"query": "x", "collections": ["finance"]}).status_code == 404
    with world.client("not-a-key-and-not-a-token") as http:
        assert http.get("/v1/models").status_code == 401
    events = store.audit_events()[start:]
    asked = [event for event in events if event.action == "asked"]
    assert asked[0].actor == "hana" and asked[0].detail["question"] == "When are salaries paid?"
    quoted = {quote["document_id"] for quote in asked[0].detail["quoted"]}
    assert quoted == {citation["document_id"] for citation in answer.json()["citations"]}
    refused = [(event.actor, event.detail["reason"]) for event in events if event.action == "refused"]
    assert ("alice", "404 model_not_found") in refused
    assert ("anonymous", "401 invalid_api_key") in refused
    with pytest.raises(sqlite3.IntegrityError), store._transaction() as connection:
        connection.execute("DELETE FROM audit_events")
