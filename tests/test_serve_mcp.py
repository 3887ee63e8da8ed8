"""The MCP endpoint of rag serve, driven by the official `mcp` client over streamable HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx2
from conftest import Served
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ALPHA_KEY = "alpha-reader-key-0001"
BETA_KEY = "beta-reader-key-000001"


async def call_tools(url: str, key: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Connect with the key, list the tools, and make each call; return tool names then results."""
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        tools = await client.list_tools()
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    return [sorted(tool.name for tool in tools.tools), *results]


def payload(result: Any) -> dict[str, Any]:
    if result.structured_content is not None:
        return dict(result.structured_content)
    return json.loads(result.content[0].text)


def test_mcp_tools_return_quotes_with_sources_and_offsets(served: Served) -> None:
    names, found, answered, listed = asyncio.run(
        call_tools(
            served.url,
            ALPHA_KEY,
            [
                ("search", {"query": "alpha apples cellar"}),
                ("ask", {"question": "Where are alpha apples stored until spring?"}),
                ("list_documents", {}),
            ],
        )
    )
    assert names == ["ask", "feedback", "list_documents", "search"]
    passages = payload(found)["data"]
    assert passages and passages[0]["collection"] == "alpha"
    answer = payload(answered)
    assert answer["answered"] and "cold cellar" in answer["answer"]
    for citation in answer["citations"]:
        document = served.base("alpha").document(citation["document_id"])
        assert document.text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["collection"] == "alpha"
    assert [item["source"] for item in payload(listed)["data"]] == ["alpha.md"]


def test_mcp_tools_never_reach_beyond_the_keys_collections(served: Served) -> None:
    _, searched, asked, listed, forbidden = asyncio.run(
        call_tools(
            served.url,
            BETA_KEY,
            [
                ("search", {"query": "alpha apples"}),
                ("ask", {"question": "Where are alpha apples stored?"}),
                ("list_documents", {}),
                ("search", {"query": "apples", "collections": ["alpha"]}),
            ],
        )
    )
    for result in (searched, asked, listed):
        text = json.dumps(payload(result))
        assert "alpha.md" not in text and "cellar" not in text
    assert forbidden.is_error and "no collection named 'alpha'" in forbidden.content[0].text


def test_mcp_without_a_key_is_refused_at_the_door(served: Served) -> None:
    response = httpx.post(served.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
