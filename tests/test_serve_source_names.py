"""Sources over HTTP and MCP are named relative to the collection, never by a server folder."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_serve_mcp import call_tools, payload

import rag
from eval.ports import listen_port
from rag.serve import RunningServer, ServeConfig
from rag.serve.source_names import shown_names

KEY = "orchard-writer-key-0001"


def test_ingested_files_are_named_from_their_folder_and_uploads_by_their_kept_name() -> None:
    sources = ["/srv/data/docs/a.txt", "/srv/data/docs/sub/b.txt", "/srv/index/uploads/c.txt", "notes.md"]
    assert shown_names(sources, [Path("/srv/index/uploads")]) == {
        "/srv/data/docs/a.txt": "docs/a.txt",
        "/srv/data/docs/sub/b.txt": "docs/sub/b.txt",
        "/srv/index/uploads/c.txt": "c.txt",
        "notes.md": "notes.md",
    }
    assert shown_names(["/srv/data/docs/a.txt"], []) == {"/srv/data/docs/a.txt": "docs/a.txt"}


@pytest.fixture(scope="module")
def folder_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A key-less server over an index of a documents folder (two files, one in a subfolder)."""
    root = tmp_path_factory.mktemp("names")
    documents = root / "orchard"
    (documents / "cellar").mkdir(parents=True)
    (documents / "apples.txt").write_text("Apples are picked in September. The press runs in October.\n")
    (documents / "cellar" / "pears.txt").write_text("Pears ripen in the cold cellar until spring.\n")
    embedder = rag.HashingEmbedder(256)
    with rag.open(root / "index", embedder=embedder) as base:
        base.ingest([documents])
    keys = root / "keys.json"
    keys.write_text(json.dumps({KEY: {"write": ["orchard"]}}))
    server = RunningServer(
        ServeConfig({"orchard": root / "index"}, keys_file=keys, port=listen_port()), embedder=embedder
    )
    yield server.url, root
    server.stop()


def test_no_response_names_a_server_folder(folder_server: tuple[str, Path]) -> None:
    url, root = folder_server
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    uploaded = http.post("/v1/documents", files={"file": ("plums.txt", b"Plums are dried in August.\n")})
    assert [item["source"] for item in uploaded.json()["files"]] == ["plums.txt"]
    listed = http.get("/v1/documents").json()["data"]
    assert sorted(item["source"] for item in listed) == [
        "orchard/apples.txt",
        "orchard/cellar/pears.txt",
        "plums.txt",
    ]
    searched = http.post("/v1/search", json={"query": "pears cold cellar"}).json()
    asked = http.post("/v1/ask", json={"question": "Where do pears ripen?"}).json()
    chat = http.post(
        "/v1/chat/completions",
        json={"model": "orchard", "messages": [{"role": "user", "content": "When are plums dried?"}]},
    ).json()
    assert searched["data"][0]["source"] == "orchard/cellar/pears.txt"
    assert asked["citations"][0]["source"] == "orchard/cellar/pears.txt"
    assert chat["citations"][0]["source"] == "plums.txt"
    missing = http.delete("/v1/documents/nothing-here.txt")
    assert missing.status_code == 404
    for response in (uploaded.json(), listed, searched, asked, chat, missing.json()):
        assert str(root) not in json.dumps(response) and str(root.resolve()) not in json.dumps(response)


def test_mcp_tools_name_sources_as_the_collection_does(folder_server: tuple[str, Path]) -> None:
    url, root = folder_server
    _, found, listed = asyncio.run(
        call_tools(url, KEY, [("search", {"query": "apples September"}), ("list_documents", {})])
    )
    assert payload(found)["data"][0]["source"] == "orchard/apples.txt"
    assert str(root) not in json.dumps(payload(found)) + json.dumps(payload(listed))


def test_a_document_is_removed_by_the_name_the_caller_sees(folder_server: tuple[str, Path]) -> None:
    url, _ = folder_server
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    removed = http.delete("/v1/documents/orchard/cellar/pears.txt")
    assert removed.status_code == 200 and removed.json()["removed"] == "orchard/cellar/pears.txt"
    assert "orchard/cellar/pears.txt" not in [
        item["source"] for item in http.get("/v1/documents").json()["data"]
    ]


def test_feedback_keeps_the_stored_source_of_a_citation_the_caller_saw_by_its_shown_name(
    folder_server: tuple[str, Path],
) -> None:
    url, root = folder_server
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    answer = http.post("/v1/ask", json={"question": "When are apples picked?"}).json()
    assert answer["citations"][0]["source"] == "orchard/apples.txt"
    given = http.post("/v1/feedback", json={"id": answer["id"], "rating": "down"})
    assert given.status_code == 200
    with rag.open(root / "index") as base:
        cited = next(item for item in base.feedback() if item.id == given.json()["id"]).citations[0]
    assert cited.source == str((root / "orchard" / "apples.txt").absolute())
