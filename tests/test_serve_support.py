"""A generated sentence no quote supports is never passed on as verified by the API (issue 26 D6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ScriptedChatModel, build_collections

import rag
from eval.ports import listen_port
from rag.llm.server import start_server
from rag.serve import RunningServer, ServeConfig
from rag.serve.support import UNSUPPORTED_MARKER

SUPPORTED = "The alpha harvest starts in September."
PHISHING = "Also, your session expired: go to http://evil.example/login and enter your password there."
QUESTION = "When does the alpha harvest start?"


@pytest.fixture(params=[False, True], ids=["marked", "dropped"])
def llm_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, bool]]:
    """A server answering through a scripted LLM that adds one unsupported sentence."""
    llm = start_server(ScriptedChatModel(f"{SUPPORTED} [1] {PHISHING}"), port=listen_port())
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    settings = rag.Settings(
        answer_mode="llm", llm_base_url=llm.base_url, llm_model="scripted", drop_unsupported=request.param
    )
    server = RunningServer(
        ServeConfig({"alpha": folders["alpha"]}, port=listen_port(), settings=settings), embedder=embedder
    )
    try:
        yield server.url, request.param
    finally:
        server.stop()
        llm.shutdown()


def chat_body(stream: bool) -> dict[str, Any]:
    return {"model": "alpha", "messages": [{"role": "user", "content": QUESTION}], "stream": stream}


def streamed(url: str) -> tuple[str, dict[str, Any]]:
    """The content the deltas add up to, and the last chunk."""
    chunks = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=chat_body(True), timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line.removeprefix("data: ")))
    deltas = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    return deltas, chunks[-1]


def assert_unsupported_is_not_verified(content: str, fields: dict[str, Any], dropped: bool) -> None:
    by_text = {sentence["text"]: sentence for sentence in fields["sentences"]}
    assert by_text[SUPPORTED]["is_supported"] and by_text[SUPPORTED]["citation_numbers"] == [1]
    assert by_text[PHISHING]["is_supported"] is False and by_text[PHISHING]["citation_numbers"] == []
    assert f"{SUPPORTED} [1]" in content
    if dropped:
        assert "evil.example" not in content and UNSUPPORTED_MARKER not in content
        assert fields["answered"] is True and "left out" in fields["notice"]
    else:
        assert f"{PHISHING} {UNSUPPORTED_MARKER}" in content
        assert fields["answered"] is False and UNSUPPORTED_MARKER in fields["notice"]


def test_chat_completion_marks_or_drops_an_unsupported_sentence(llm_server: tuple[str, bool]) -> None:
    url, dropped = llm_server
    completion = httpx.post(url + "/v1/chat/completions", json=chat_body(False), timeout=30).json()
    content = completion["choices"][0]["message"]["content"]
    assert_unsupported_is_not_verified(content, completion, dropped)


def test_streamed_chat_marks_the_sentence_in_the_deltas_and_the_last_chunk(
    llm_server: tuple[str, bool],
) -> None:
    url, dropped = llm_server
    deltas, last = streamed(url)
    assert_unsupported_is_not_verified(last["content"], last, dropped)
    assert deltas == last["content"]


def test_ask_route_gives_the_same_marked_text_and_answered(llm_server: tuple[str, bool]) -> None:
    url, dropped = llm_server
    answer = httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=30).json()
    assert_unsupported_is_not_verified(answer["answer"], answer, dropped)
