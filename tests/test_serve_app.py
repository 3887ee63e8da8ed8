"""rag serve over real HTTP on 127.0.0.1: OpenAI clients, keys on every route, uploads, limits."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import ALPHA_TEXT, SERVE_KEYS, ScriptedChatModel, Served, build_collections
from sample_files import positioned_pdf

import rag
from eval.ports import listen_port
from rag.llm.client import OpenAIChatClient
from rag.llm.server import start_server
from rag.serve import Limits, RunningServer, ServeConfig
from rag.serve.source_names import shown_names

ALPHA_KEY = "alpha-reader-key-0001"
BETA_KEY = "beta-reader-key-000001"
WRITER_KEY = "alpha-writer-key-0001"
ADMIN_KEY = "admin-key-for-everything"


def client(served: Served, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=served.url, headers=headers, timeout=30)


def ask_chat(served: Served, key: str, model: str, question: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": question}]}
    return client(served, key).post("/v1/chat/completions", json=body)


def assert_quotes_are_stored_text(served: Served, citations: list[dict[str, Any]]) -> None:
    assert citations
    for citation in citations:
        document = served.base(citation["collection"]).document(citation["document_id"])
        assert document.text[citation["start"] : citation["end"]] == citation["quote"]


def test_openai_client_gets_an_answer_whose_citations_are_verbatim(served: Served) -> None:
    api = openai.OpenAI(base_url=served.url + "/v1", api_key=ALPHA_KEY)
    completion = api.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "When does the alpha harvest start?"}]
    )
    extra = completion.model_extra or {}
    assert "September" in (completion.choices[0].message.content or "")
    assert extra["answered"] is True
    assert {citation["collection"] for citation in extra["citations"]} == {"alpha"}
    assert_quotes_are_stored_text(served, extra["citations"])


def test_a_compound_question_comes_back_with_its_parts(served: Served) -> None:
    api = openai.OpenAI(base_url=served.url + "/v1", api_key=ALPHA_KEY)
    question = "When does the alpha harvest start, and where are alpha apples stored?"
    completion = api.chat.completions.create(model="alpha", messages=[{"role": "user", "content": question}])
    extra = completion.model_extra or {}
    parts = extra["parts"]
    assert [part["question"] for part in parts] == [
        "When does the alpha harvest start?",
        "Where are alpha apples stored?",
    ]
    numbers = [citation["number"] for part in parts for citation in part["citations"]]
    assert (
        numbers == [citation["number"] for citation in extra["citations"]] == list(range(1, len(numbers) + 1))
    )
    assert_quotes_are_stored_text(served, [c for part in parts for c in part["citations"]])


def test_openai_client_streams_text_and_sends_citations_in_the_last_chunk(served: Served) -> None:
    api = openai.OpenAI(base_url=served.url + "/v1", api_key=BETA_KEY)
    stream = api.chat.completions.create(
        model="beta",
        messages=[{"role": "user", "content": "How long does a beta boat take to build?"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    last = chunks[-1].model_extra or {}
    assert "nine months" in text and chunks[-1].choices[0].finish_reason == "stop"
    assert last["content"] == text and last["answered"] is True
    assert_quotes_are_stored_text(served, last["citations"])


def test_projects_own_openai_client_talks_to_the_endpoint(served: Served) -> None:
    chat = OpenAIChatClient(served.url + "/v1", model="alpha", api_key=ALPHA_KEY)
    messages = [{"role": "user", "content": "Where are alpha apples stored?"}]
    assert "cold cellar" in chat.complete(messages, max_tokens=64)
    assert "cold cellar" in "".join(chat.stream(messages, max_tokens=64))


def test_two_collections_are_searched_together_and_each_citation_names_its_own(served: Served) -> None:
    for question, expected in (
        ("Where does the beta shipyard build wooden boats?", "beta"),
        ("Where are the alpha apples stored until spring?", "alpha"),
    ):
        response = ask_chat(served, ADMIN_KEY, "alpha,beta", question)
        body = response.json()
        assert response.status_code == 200 and body["model"] == "alpha,beta"
        assert_quotes_are_stored_text(served, body["citations"])
        assert body["citations"][0]["collection"] == expected
        for citation in body["citations"]:
            assert citation["source"] == f"{citation['collection']}.md"
    passages = client(served, ADMIN_KEY).post("/v1/search", json={"query": "boats apples"}).json()["data"]
    assert {passage["collection"] for passage in passages} == {"alpha", "beta"}
    assert [passage["rank"] for passage in passages] == list(range(1, len(passages) + 1))


def test_follow_up_question_is_rewritten_with_the_chat_history(served: Served) -> None:
    messages = [
        {"role": "user", "content": "Where does the beta shipyard build boats?"},
        {"role": "assistant", "content": "In Bergen [1]"},
        {"role": "user", "content": "How long does it take?"},
    ]
    body = client(served, BETA_KEY).post("/v1/chat/completions", json={"model": "beta", "messages": messages})
    assert "shipyard" in body.json()["query"].lower()


def test_missing_or_unknown_key_is_401_on_every_route(served: Served) -> None:
    routes = [
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/search"),
        ("POST", "/v1/ask"),
        ("GET", "/v1/documents"),
        ("POST", "/v1/documents"),
        ("DELETE", "/v1/documents/alpha.md"),
        ("GET", "/v1/stats"),
        ("POST", "/mcp"),
    ]
    for key in (None, "not-a-key-but-long-enough", ALPHA_KEY + "x"):
        for method, path in routes:
            response = client(served, key).request(method, path, json={})
            assert response.status_code == 401, (key, path)
            assert response.json()["error"]["type"] == "authentication_error"
    assert client(served, None).get("/healthz").json()["status"] == "ok"


def test_the_callers_access_is_resolved_once_per_request(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = served.server.service
    resolved = []

    def counted_access(authorization: str | None) -> Any:
        resolved.append(authorization)
        return type(service).access(service, authorization)

    monkeypatch.setattr(service, "access", counted_access)
    response = client(served, ALPHA_KEY).post("/v1/search", json={"query": "apples"})
    assert response.status_code == 200
    assert resolved == [f"Bearer {ALPHA_KEY}"]


def test_a_key_never_sees_a_collection_outside_its_grant(served: Served) -> None:
    beta = client(served, BETA_KEY)
    assert [model["id"] for model in beta.get("/v1/models").json()["data"]] == ["beta"]
    assert ask_chat(served, BETA_KEY, "alpha", "apples?").status_code == 404
    assert ask_chat(served, BETA_KEY, "beta,alpha", "apples?").status_code == 404
    for path, body in (("/v1/search", {"query": "apples"}), ("/v1/ask", {"question": "Where are apples?"})):
        assert beta.post(path, json=body | {"collections": ["alpha"]}).status_code == 404
        answer = beta.post(path, json=body).json()  # default: every collection the key may read
        passages = answer.get("data") or answer.get("passages")
        assert passages and all(passage["collection"] == "beta" for passage in passages)
        assert "apple" not in json.dumps(passages).lower()
    assert beta.get("/v1/documents", params={"collection": "alpha"}).status_code == 404
    assert "alpha" not in beta.get("/v1/documents").text
    assert list(beta.get("/v1/stats").json()["collections"]) == ["beta"]
    assert beta.delete("/v1/documents/alpha.md", params={"collection": "alpha"}).status_code == 404
    refused = ask_chat(served, BETA_KEY, "alpha", "apples?").json()["error"]
    assert refused["code"] == "model_not_found" and "apple" not in json.dumps(refused).lower()


def test_a_read_only_key_may_not_upload_or_delete(served: Served) -> None:
    reader = client(served, ALPHA_KEY)
    files = {"file": ("note.txt", b"A note about pears and plums in the orchard.", "text/plain")}
    response = reader.post("/v1/documents", data={"collection": "alpha"}, files=files)
    assert response.status_code == 403 and response.json()["error"]["type"] == "permission_error"
    assert reader.delete("/v1/documents/alpha.md", params={"collection": "alpha"}).status_code == 403


def test_upload_is_searchable_then_delete_removes_it(served: Served) -> None:
    writer = client(served, WRITER_KEY)
    text = b"The alpha orchard also keeps bees. The bees make heather honey in August."
    response = writer.post("/v1/documents", files={"file": ("bees.txt", text, "text/plain")})
    assert response.status_code == 200 and response.json()["summary"]["added"] == 1
    sources = [item["source"] for item in writer.get("/v1/documents").json()["data"]]
    assert any(source.endswith("bees.txt") for source in sources)
    answer = writer.post("/v1/ask", json={"question": "What honey do the bees make?"}).json()
    assert "heather honey" in answer["answer"]
    beta_search = client(served, BETA_KEY).post("/v1/search", json={"query": "bees honey"}).json()
    assert "honey" not in json.dumps(beta_search["data"])
    removed = writer.delete("/v1/documents/bees.txt")
    assert removed.status_code == 200 and removed.json()["chunks"] >= 1
    assert writer.delete("/v1/documents/bees.txt").status_code == 404
    assert "honey" not in json.dumps(writer.post("/v1/search", json={"query": "bees honey"}).json()["data"])


def test_uploads_get_the_same_checks_as_the_ui(served: Served) -> None:
    writer = client(served, WRITER_KEY)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for name, content in (("photo.txt", png), ("tool.exe", b"MZ"), ("empty.md", b"")):
        response = writer.post("/v1/documents", files={"file": (name, content, "application/octet-stream")})
        assert response.status_code in (200, 400), name
        if response.status_code == 200:  # accepted for upload, then refused by the loader
            assert response.json()["summary"]["failed"] == 1, name
        else:
            assert name in response.json()["error"]["message"]
    assert writer.post("/v1/documents", json={"file": "x"}).status_code == 415


def test_hostile_html_comes_back_as_inert_text(served: Served) -> None:
    writer = client(served, WRITER_KEY)
    page = (
        b"<html><head><title>Cider</title><script>alert('pwned')</script></head><body>"
        b"<p>The alpha cider press runs <b>every Friday</b>.<img src=x onerror=alert(1)></p></body></html>"
    )
    note = b"The alpha cellar label reads <script>alert(2)</script> in red letters."
    files = [("file", ("cider.html", page, "text/html")), ("file", ("label.txt", note, "text/plain"))]
    assert writer.post("/v1/documents", files=files).status_code == 200
    response = writer.post("/v1/ask", json={"question": "When does the cider press run?"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    answer = response.json()
    assert "every Friday" in answer["answer"]
    from_page = [passage for passage in answer["passages"] if passage["source"].endswith("cider.html")]
    assert from_page and all("<" not in passage["text"] for passage in from_page)
    assert "onerror" not in response.text and "pwned" not in response.text
    label = writer.post("/v1/search", json={"query": "cellar label red letters"}).json()["data"]
    assert any("<script>alert(2)</script>" in passage["text"] for passage in label)  # a string, not markup
    for name in ("cider.html", "label.txt"):
        writer.delete(f"/v1/documents/{name}")


def test_errors_have_openai_shape_and_say_what_to_do(served: Served) -> None:
    admin = client(served, ADMIN_KEY)
    cases = [
        admin.post(
            "/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        admin.post("/v1/chat/completions", json={"model": "alpha", "messages": []}),
        admin.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}),
        admin.post(
            "/v1/chat/completions",
            json={"model": "alpha", "messages": [{"role": "assistant", "content": "x"}]},
        ),
        admin.post("/v1/search", json={"query": "x", "k": 0}),
        admin.post("/v1/search", json={"query": "x", "mode": "fuzzy"}),
        admin.post("/v1/ask", json={"question": "x" * 5000}),
        admin.post(  # refused before the stream starts, by the rule every question meets
            "/v1/chat/completions",
            json={"model": "alpha", "stream": True, "messages": [{"role": "user", "content": "x" * 5000}]},
        ),
        admin.get("/v1/nothing-here"),
    ]
    for response in cases:
        error = response.json()["error"]
        assert response.status_code in (400, 404) and error["message"] and error["type"], response.text


def test_request_bodies_over_the_limit_are_refused_with_413(served: Served) -> None:
    huge = {"query": "x" * (1024 * 1024 + 10)}
    response = client(served, ADMIN_KEY).post("/v1/search", json=huge)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


class SlowEmbedder(rag.HashingEmbedder):
    """The fake embedder, slowed so concurrent requests pile up."""

    def __init__(self, seconds: float) -> None:
        super().__init__(256)
        self.seconds = seconds
        self.name = "hashing-256"

    def embed(self, texts: Any) -> Any:
        time.sleep(self.seconds)
        return super().embed(texts)


def burst(url: str, count: int) -> list[httpx.Response]:
    body = {"model": "alpha", "messages": [{"role": "user", "content": "When is the alpha harvest?"}]}
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        futures = [
            pool.submit(httpx.post, url + "/v1/chat/completions", json=body, timeout=30) for _ in range(count)
        ]
        return [future.result() for future in futures]


# No queue: refused at once (429). A queue with a deadline shorter than one answer: a request
# waits and is refused when its deadline passes (503), or is refused at once (429) when the
# service time measured so far already predicts it cannot be served in time (a busy machine).
@pytest.mark.parametrize(("queue", "wait", "refusals"), [(0, 30.0, {429}), (20, 0.05, {429, 503})])
def test_beyond_capacity_requests_are_refused_with_retry_after_never_hung(
    tmp_path: Path, queue: int, wait: float, refusals: set[int]
) -> None:
    embedder = SlowEmbedder(0.0)
    folders = build_collections(tmp_path, embedder)
    limits = Limits(workers=1, queue=queue, wait_seconds=wait)
    server = RunningServer(
        ServeConfig({"alpha": folders["alpha"]}, port=listen_port(), limits=limits), embedder=embedder
    )
    embedder.seconds = 0.3
    try:
        responses = burst(server.url, 8)
    finally:
        server.stop()
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200} | refusals and statuses.count(200) >= 1 and set(statuses) & refusals
    for response in responses:
        if response.status_code in refusals:
            assert int(response.headers["retry-after"]) >= 1
            assert response.json()["error"]["type"] in ("rate_limit_error", "server_error")


def ask_at_once(url: str, keys: list[str], finished: list[str] | None = None) -> list[httpx.Response]:
    """POST /v1/ask once per key, all at once; `finished` records each key as its answer arrives.

    One client thread sends them all: a thread per request would fight the in-process server for the GIL.
    """
    body = {"question": "When is the alpha harvest?", "collections": ["alpha"]}

    async def one(client: httpx.AsyncClient, key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await client.post(url + "/v1/ask", json=body, headers=headers)
        if finished is not None:
            finished.append(key)
        return response

    async def every() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(keys))
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(one(client, key) for key in keys))

    return asyncio.run(every())


def slow_server(tmp_path: Path, seconds: float, limits: Limits, keys: Path | None = None) -> RunningServer:
    """A server over alpha whose embedder takes `seconds` a call, taught that pace by three asks."""
    embedder = SlowEmbedder(0.0)
    folders = build_collections(tmp_path, embedder)
    config = ServeConfig({"alpha": folders["alpha"]}, keys_file=keys, port=listen_port(), limits=limits)
    server = RunningServer(config, embedder=embedder)
    embedder.seconds = seconds
    for _ in range(3):
        ask_at_once(server.url, [ALPHA_KEY if keys else ""])
    return server


def test_a_burst_whose_predicted_wait_fits_the_deadline_is_all_answered(tmp_path: Path) -> None:
    server = slow_server(tmp_path, 0.005, Limits(workers=2))  # the default queue, deadline 30 s
    try:
        responses = ask_at_once(server.url, [""] * 150)  # more than the old fixed queue of 64
    finally:
        server.stop()
    assert [response.status_code for response in responses] == [200] * 150
    assert all(response.json()["citations"] for response in responses)


def test_a_request_past_the_deadline_is_refused_at_once_with_retry_after(tmp_path: Path) -> None:
    server = slow_server(tmp_path, 0.2, Limits(workers=1, wait_seconds=1.0))
    try:
        responses = ask_at_once(server.url, [""] * 12)
        service_seconds = server.service.gate.service_seconds
    finally:
        server.stop()
    statuses = [response.status_code for response in responses]
    # Those past the deadline are refused at once (429). One admitted may still wait the deadline
    # out for the documented 503 when answers run slower than the pace learned (a busy machine:
    # seen once at load 8), so a 503 is allowed, never required.
    assert {200, 429} <= set(statuses) <= {200, 429, 503}
    # Nothing queued can wait longer than the whole burst's work: Retry-After is at most that.
    longest = math.ceil(12 * service_seconds)
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["retry-after"]) <= longest
            assert response.json()["error"]["type"] == "rate_limit_error"
        elif response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1


def test_one_keys_burst_does_not_starve_another_keys_request(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({ALPHA_KEY: ["alpha"], ADMIN_KEY: {"write": ["*"]}}))
    server = slow_server(tmp_path, 0.05, Limits(workers=1), keys)
    finished: list[str] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            burst = pool.submit(ask_at_once, server.url, [ALPHA_KEY] * 40, finished)
            deadline = time.monotonic() + 30
            while server.service.gate.waiting < 20:  # the burst is queued
                assert time.monotonic() < deadline and not burst.done()
                time.sleep(0.01)
            single = ask_at_once(server.url, [ADMIN_KEY], finished)
            responses = burst.result()
    finally:
        server.stop()
    assert single[0].status_code == 200 and [r.status_code for r in responses] == [200] * 40
    # Served in turn: the single request comes back long before the burst's last answer.
    assert finished.index(ADMIN_KEY) < 10


def test_refuses_to_bind_beyond_loopback_without_keys(tmp_path: Path) -> None:
    folders = build_collections(tmp_path, rag.HashingEmbedder(256))
    with pytest.raises(rag.SettingsError, match="--keys"):
        RunningServer(
            ServeConfig(folders, host="0.0.0.0", port=listen_port()), embedder=rag.HashingEmbedder(256)
        )


def test_a_stream_abandoned_by_its_client_gives_its_slot_back(tmp_path: Path) -> None:
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    limits = Limits(workers=1, queue=0)
    server = RunningServer(
        ServeConfig({"alpha": folders["alpha"]}, port=listen_port(), limits=limits), embedder=embedder
    )
    body = {"model": "alpha", "messages": [{"role": "user", "content": "When is the alpha harvest?"}]}
    try:
        for _ in range(3):
            with httpx.stream(
                "POST", server.url + "/v1/chat/completions", json=body | {"stream": True}
            ) as response:
                assert response.status_code == 200  # closed without reading a byte
        deadline = time.monotonic() + 10
        while (status := httpx.post(server.url + "/v1/chat/completions", json=body).status_code) == 429:
            assert time.monotonic() < deadline, "the slot was never given back"
            time.sleep(0.1)
        assert status == 200 and server.service.gate.running == 0
    finally:
        server.stop()


@pytest.mark.model
def test_real_model_answers_the_seeds_through_the_openai_client(
    seeds_base: rag.KnowledgeBase, real_embedder: rag.Embedder
) -> None:
    server = RunningServer(
        ServeConfig({"seeds": seeds_base.folder}, port=listen_port()), embedder=real_embedder
    )
    try:
        api = openai.OpenAI(base_url=server.url + "/v1", api_key="unused-without-keys")
        completion = api.chat.completions.create(
            model="seeds",
            messages=[
                {"role": "user", "content": "Who hosted the multinational conference in Moscow on Nov. 9?"}
            ],
        )
    finally:
        server.stop()
    extra = completion.model_extra or {}
    assert extra["answered"] and extra["citations"]
    for citation in extra["citations"]:
        text = seeds_base.document(citation["document_id"]).text
        assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_started_with_a_language_model_it_answers_in_llm_mode_with_verified_quotes(tmp_path: Path) -> None:
    writer = ScriptedChatModel("The alpha harvest starts in September [1].")
    llm = start_server(writer, port=listen_port())
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(tmp_path, embedder)
    settings = rag.Settings(answer_mode="llm", llm_base_url=llm.base_url, llm_model="scripted")
    config = ServeConfig({"alpha": folders["alpha"]}, port=listen_port(), settings=settings)
    server = RunningServer(config, embedder=embedder)
    try:
        api = openai.OpenAI(base_url=server.url + "/v1", api_key="unused-without-keys")
        chunks = list(
            api.chat.completions.create(
                model="alpha",
                messages=[{"role": "user", "content": "When does the harvest start?"}],
                stream=True,
            )
        )
    finally:
        server.stop()
        llm.shutdown()
    last = chunks[-1].model_extra or {}
    assert writer.calls and last["answered"] and "September" in last["content"]
    citation = last["citations"][0]
    assert ALPHA_TEXT[citation["start"] : citation["end"]] == citation["quote"]


@pytest.fixture(scope="module")
def served_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    """The alpha and beta collections with keys, alpha also holding a one-page PDF (its id)."""
    root = tmp_path_factory.mktemp("pages")
    embedder = rag.HashingEmbedder(256)
    folders = build_collections(root, embedder)
    pdf = root / "bridge.pdf"
    pdf.write_bytes(positioned_pdf([[(72, 700, "F1", "The north bridge was repainted in October.")]]))
    copy = root / "copy" / "bridge.pdf"  # the same text (so the same id), drawn at another place
    copy.parent.mkdir()
    copy.write_bytes(positioned_pdf([[(300, 400, "F1", "The north bridge was repainted in October.")]]))
    with rag.open(folders["alpha"], embedder=embedder) as base:
        base.ingest([pdf, copy])
        document_id = base.document(str(pdf)).id
    keys = root / "keys.json"
    keys.write_text(json.dumps(SERVE_KEYS))
    server = RunningServer(ServeConfig(folders, keys_file=keys, port=listen_port()), embedder=embedder)
    yield Served(server, folders), document_id
    server.stop()


def test_a_page_image_comes_back_as_png_with_the_quote_highlighted(served_pages: tuple[Served, str]) -> None:
    served, document_id = served_pages
    path = f"/v1/documents/{document_id}/pages/1.png"
    plain = client(served, ALPHA_KEY).get(path, params={"width": 400})
    marked = client(served, ALPHA_KEY).get(path, params={"width": 400, "highlight": "4:16"})
    assert plain.status_code == marked.status_code == 200
    assert marked.headers["content-type"] == "image/png"
    assert marked.content.startswith(b"\x89PNG") and marked.content != plain.content


def test_a_page_image_needs_a_key_that_reads_its_collection(served_pages: tuple[Served, str]) -> None:
    served, document_id = served_pages
    path = f"/v1/documents/{document_id}/pages/1.png"
    assert client(served, None).get(path).status_code == 401
    assert client(served, "not-a-key-but-long-enough").get(path).status_code == 401
    hidden = client(served, BETA_KEY).get(path)
    assert hidden.status_code == 404 and hidden.json()["error"]["type"] == "not_found_error"
    assert client(served, ALPHA_KEY).get(path, params={"collection": "beta"}).status_code == 404
    assert client(served, ALPHA_KEY).get(f"/v1/documents/{'0' * 64}/pages/1.png").status_code == 404
    assert client(served, ALPHA_KEY).get(f"/v1/documents/{document_id}/pages/2.png").status_code == 404
    bad = client(served, ALPHA_KEY).get(path, params={"highlight": "9:3"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "highlight"
    text = client(served, ALPHA_KEY).get("/v1/documents/alpha.md/pages/1.png")
    assert text.status_code == 400 and "only PDFs and pictures" in text.json()["error"]["message"]


def test_a_citations_source_picks_the_file_among_those_sharing_its_id(
    served_pages: tuple[Served, str],
) -> None:
    served, document_id = served_pages
    listed = client(served, ALPHA_KEY).get("/v1/documents").json()["data"]
    shown = sorted(row["source"] for row in listed if row["id"] == document_id)
    assert len(shown) == 2
    path = f"/v1/documents/{document_id}/pages/1.png"
    pages = [client(served, ALPHA_KEY).get(path, params={"source": name}) for name in shown]
    assert [page.status_code for page in pages] == [200, 200] and pages[0].content != pages[1].content
    with rag.open(served.folders["alpha"], embedder=rag.HashingEmbedder(256)) as base:
        stored = {name: source for source, name in shown_names(base.store.sources(), []).items()}
        for name, page in zip(shown, pages, strict=True):
            assert page.content == base.page_image(stored[name], 1)
    other = client(served, ALPHA_KEY).get(path, params={"source": "alpha.md"})
    assert other.status_code == 404  # a source of another document is not this one


def test_sources_route_shows_each_readable_collections_sync_status(served: Served) -> None:
    from rag.sources.state import SyncState

    state = SyncState(served.folders["alpha"])
    state.source("/data/alpha-notes").last = {"added": 2, "error": "cannot read /data/alpha-notes/x.pdf"}
    state.save()
    (listed,) = client(served, ALPHA_KEY).get("/v1/sources").json()["data"]
    # The folder is named from its own name down, in errors too: the server's disk is not the caller's.
    assert listed["collection"] == "alpha" and listed["location"] == "alpha-notes"
    assert listed["last"]["added"] == 2 and listed["last"]["error"] == "cannot read alpha-notes/x.pdf"
    assert client(served, BETA_KEY).get("/v1/sources").json()["data"] == []
    assert client(served, BETA_KEY).get("/v1/sources", params={"collection": "alpha"}).status_code == 404


def test_hostile_json_bodies_are_client_errors_never_500(served: Served) -> None:
    headers = {"Authorization": f"Bearer {ALPHA_KEY}", "Content-Type": "application/json"}
    nested = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"query": ' * 50_000 + b"1" + b"}" * 50_000
    for body in (nested, deep_object):
        response = httpx.post(served.url + "/v1/search", content=body, headers=headers, timeout=30)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"
    surrogate = b'{"query": "secret \\ud800 code"}'
    response = httpx.post(served.url + "/v1/search", content=surrogate, headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.json()["query"].replace("\ufffd", "") == "secret  code"  # cleaned as /v1/ask cleans it
    echoed = b'{"query": "apples", "collections": ["\\udc80nope"]}'  # the name comes back in the error
    response = httpx.post(served.url + "/v1/search", content=echoed, headers=headers, timeout=30)
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"


def test_get_mcp_is_refused_instead_of_holding_an_empty_event_stream(served: Served) -> None:
    headers = {"Authorization": f"Bearer {ALPHA_KEY}", "Accept": "text/event-stream"}
    response = httpx.get(served.url + "/mcp", headers=headers, timeout=5)
    assert response.status_code == 405 and response.json()["error"]["type"] == "invalid_request_error"


def test_error_messages_name_the_collection_not_the_servers_folder(served: Served) -> None:
    admin = client(served, ADMIN_KEY)
    response = admin.delete("/v1/documents/nonexist.txt", params={"collection": "alpha"})
    message = response.json()["error"]["message"]
    assert response.status_code == 404 and "nonexist.txt" in message and "collection alpha" in message
    for folder in served.folders.values():
        assert str(folder) not in message and str(folder.resolve()) not in message
