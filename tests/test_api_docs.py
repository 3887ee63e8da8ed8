"""docs/api.md's examples, run as written against `rag serve` started from the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import rag_serve, start_server

import rag

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"
FAKE_MODEL = "hashing-256"


def blocks(language: str) -> list[str]:
    """The fenced code blocks of docs/api.md in one language, in order."""
    return re.findall(rf"```{language}\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def documented_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`rag serve` with the documented keys file, over the handbook (docs/) and papers collections."""
    root = tmp_path_factory.mktemp("api-docs")
    keys = root / "keys.json"
    keys.write_text(blocks("json")[0])
    embedder = rag.HashingEmbedder(256)
    with rag.open(root / "handbook", embedder=embedder) as base:
        base.ingest([ROOT / "docs"])
    with rag.open(root / "papers", embedder=embedder) as base:
        base.add_texts([rag.TextItem("paper.md", "A paper about citation accuracy in retrieval systems.")])
    command = rag_serve("--model", FAKE_MODEL, "--keys", str(keys))
    command += ["--collection", f"handbook={root / 'handbook'}", "--collection", f"papers={root / 'papers'}"]
    running = start_server(command, root / "server.log")
    try:
        yield {"VERBATIM_URL": running.url, "VERBATIM_KEY": "editor-key-for-the-handbook", "work": str(root)}
    finally:
        running.stop()


def run(command: list[str], server: dict[str, str]) -> str:
    environment = os.environ | {key: value for key, value in server.items() if key.startswith("VERBATIM_")}
    done = subprocess.run(
        command, cwd=server["work"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_curl_examples_run_and_answer_with_citations(documented_server: dict[str, str]) -> None:
    script = "set -euo pipefail\n" + "\n".join(blocks("bash"))
    output, outputs, decoder = run(["bash", "-c", script], documented_server), [], json.JSONDecoder()
    position = 0
    while output[position:].strip():
        value, position = decoder.raw_decode(output, len(output) - len(output[position:].lstrip()))
        outputs.append(value)
    models, chat, search, ask, uploaded, listed, removed = outputs
    assert [model["id"] for model in models["data"]] == ["handbook", "papers"]
    assert chat["object"] == "chat.completion" and "citations" in chat and "answered" in chat
    assert all(passage["collection"] == "handbook" for passage in search["data"]) and len(search["data"]) <= 3
    assert set(ask["collections"]) == {"handbook", "papers"}
    assert uploaded["summary"]["added"] == 1
    assert any(item["source"].endswith("meeting-rooms.md") for item in listed["data"])
    assert removed["removed"].endswith("meeting-rooms.md")


def test_the_openai_client_example_runs(documented_server: dict[str, str]) -> None:
    (openai_example,) = [block for block in blocks("python") if "from openai" in block]
    output = run([sys.executable, "-c", openai_example], documented_server)
    assert "citations, answered:" in output


def test_the_mcp_example_runs(documented_server: dict[str, str]) -> None:
    (mcp_example,) = [block for block in blocks("python") if "from mcp" in block]
    output = run([sys.executable, "-c", mcp_example], documented_server)
    assert output.splitlines()[0] == "['search', 'ask', 'feedback', 'list_documents']"
