"""The load run's lean HTTP client against a real `rag serve`: statuses, bodies, kept connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import rag
from eval.load_client import LoadClient
from eval.ports import free_port, listen_port
from rag.serve import RunningServer, ServeConfig

RIVER = "The river Aldwater floods the lower meadows every spring, after the snow melts in the hills."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("load") / "index"
    embedder = rag.HashingEmbedder(256)
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("river.md", RIVER)])
    running = RunningServer(ServeConfig({"notes": folder}, port=listen_port()), embedder=embedder)
    yield running
    running.stop()


def chat_body(stream: bool = False) -> bytes:
    question = {"role": "user", "content": "When does the Aldwater flood the meadows?"}
    return json.dumps({"model": "notes", "messages": [question], "stream": stream}).encode()


def test_kept_connections_carry_many_answers(server: RunningServer) -> None:
    async def run() -> tuple[list[int], list[dict], int]:
        client = LoadClient(server.url, keep_alive=True)
        responses = [await client.post("/v1/chat/completions", chat_body()) for _ in range(3)]
        kept = len(client._idle)
        await client.close()
        return [r.status for r in responses], [json.loads(r.body) for r in responses], kept

    statuses, payloads, kept = asyncio.run(run())
    assert statuses == [200, 200, 200] and kept == 1  # one connection served all three
    assert all(payload["citations"][0]["quote"] in RIVER for payload in payloads)


def test_a_new_connection_each_time_and_error_statuses_are_read(server: RunningServer) -> None:
    async def run() -> tuple[int, int, int]:
        client = LoadClient(server.url, keep_alive=False)
        answered = await client.post("/v1/chat/completions", chat_body())
        missing = await client.post("/v1/nowhere", b"{}")
        unknown = await client.post(
            "/v1/chat/completions", json.dumps({"model": "nope", "messages": []}).encode()
        )
        assert not client._idle
        return answered.status, missing.status, unknown.status

    answered, missing, unknown = asyncio.run(run())
    assert (answered, missing) == (200, 404) and unknown >= 400


def test_a_streamed_answer_is_read_from_its_chunks(server: RunningServer) -> None:
    response = asyncio.run(LoadClient(server.url).post("/v1/chat/completions", chat_body(stream=True)))
    assert response.status == 200 and response.headers.get("transfer-encoding") == "chunked"
    events = [line for line in response.body.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and "Aldwater" in response.body.decode()


def test_a_server_that_is_not_there_is_status_zero_not_an_exception() -> None:
    response = asyncio.run(LoadClient(f"http://127.0.0.1:{free_port()}", timeout=5).post("/", b"{}"))
    assert response.status == 0 and response.body
