"""POST /v1/feedback and the MCP tool `feedback` on a real `rag serve`: feedback by an answer's id."""

from __future__ import annotations

import asyncio

import httpx
import openai
from conftest import Served
from test_serve_mcp import call_tools, payload

import rag
from rag.serve.feedback import RecentAnswers

ALPHA_KEY = "alpha-reader-key-0001"
BETA_KEY = "beta-reader-key-000001"


def client(served: Served, key: str) -> httpx.Client:
    return httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_openai_client_sends_feedback_by_the_completion_id(served: Served) -> None:
    api = openai.OpenAI(base_url=served.url + "/v1", api_key=ALPHA_KEY)
    completion = api.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "When does the alpha harvest start?"}]
    )
    body = {"id": completion.id, "rating": "down", "citation": 1, "flag": "wrong_document", "comment": "hmm"}
    response = client(served, ALPHA_KEY).post("/v1/feedback", json=body)
    assert response.status_code == 200, response.text
    stored = next(item for item in served.base("alpha").feedback() if item.id == response.json()["id"])
    assert stored.question == "When does the alpha harvest start?" and stored.rating == "not_helpful"
    assert stored.citations[0].flags == ("wrong_document",) and stored.citations[0].content_hash
    assert (stored.who, stored.channel, stored.collections) == ("key #1", "api", ("alpha",))


def test_a_streamed_completion_is_named_by_its_chunks_id(served: Served) -> None:
    api = openai.OpenAI(base_url=served.url + "/v1", api_key=ALPHA_KEY)
    stream = api.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "How are alpha apples stored?"}], stream=True
    )
    ids = {chunk.id for chunk in stream}
    assert len(ids) == 1
    response = client(served, ALPHA_KEY).post("/v1/feedback", json={"id": ids.pop(), "rating": "up"})
    assert response.status_code == 200, response.text
    assert served.base("alpha").feedback()[-1].question == "How are alpha apples stored?"


def test_ask_returns_an_id_that_feedback_with_a_pasted_source_names(served: Served) -> None:
    http = client(served, ALPHA_KEY)
    answer = http.post("/v1/ask", json={"question": "Where are alpha apples stored?"}).json()
    assert answer["id"].startswith("ans-")
    body = {
        "id": answer["id"],
        "rating": "up",
        "source": "stored in a  cold\ncellar",
        "answer": "a cold cellar",
    }
    assert http.post("/v1/feedback", json=body).status_code == 200
    stored = served.base("alpha").feedback()[-1]
    assert stored.corrected_answer == "a cold cellar"
    assert stored.better_source is not None and stored.better_source.text == "stored in a cold cellar"


def test_feedback_on_an_unknown_or_unreadable_answer_is_refused(served: Served) -> None:
    alpha = client(served, ALPHA_KEY)
    answer = alpha.post("/v1/ask", json={"question": "When does the alpha harvest start?"}).json()
    unknown = alpha.post("/v1/feedback", json={"id": "chatcmpl-nothing", "rating": "up"})
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "id"
    # The beta key never saw an answer over alpha.
    assert (
        client(served, BETA_KEY).post("/v1/feedback", json={"id": answer["id"], "rating": "up"}).status_code
        == 404
    )
    bad = alpha.post("/v1/feedback", json={"id": answer["id"], "rating": "sideways"})
    assert bad.status_code == 400 and "rating must be one of" in bad.json()["error"]["message"]


def test_mcp_feedback_tool_names_the_answer_ask_gave(served: Served) -> None:
    _, answered = asyncio.run(
        call_tools(served.url, ALPHA_KEY, [("ask", {"question": "Where are alpha apples stored?"})])
    )
    answer_id = payload(answered)["id"]
    _, given = asyncio.run(
        call_tools(
            served.url, ALPHA_KEY, [("feedback", {"answer_id": answer_id, "rating": "down", "comment": "x"})]
        )
    )
    assert payload(given)["stored"] is True
    assert served.base("alpha").feedback()[-1].channel == "mcp"


def test_recent_answers_forget_the_oldest_first() -> None:
    recent = RecentAnswers(capacity=2)
    answers = [rag.Answer(f"q{n}", "", False, (), (), "", id=f"ans-{n}") for n in range(6)]
    for answer in answers:
        recent.remember(answer, ["alpha"])
    assert recent.find("ans-0") is None and recent.find("ans-5") is not None


def test_feedback_is_stored_in_the_collection_that_answered_with_its_conversation(served: Served) -> None:
    admin = client(served, "admin-key-for-everything")
    history = [
        {"role": "user", "content": "Who builds boats in Bergen?"},
        {"role": "assistant", "content": "The beta shipyard builds wooden boats in Bergen. [1]"},
    ]
    body = {"question": "How long does each boat take?", "collections": ["alpha", "beta"], "history": history}
    answer = admin.post("/v1/ask", json=body).json()
    assert answer["citations"][0]["collection"] == "beta"
    response = admin.post("/v1/feedback", json={"id": answer["id"], "rating": "up"})
    assert response.status_code == 200, response.text
    stored = next(item for item in served.base("beta").feedback() if item.id == response.json()["id"])
    assert stored.collections == ("alpha", "beta") and list(stored.history) == history
    assert all(item.answer_id != answer["id"] for item in served.base("alpha").feedback())
    # The MCP tool's questions are logged as MCP's, in the collection that answered.
    _, answered = asyncio.run(
        call_tools(served.url, ALPHA_KEY, [("ask", {"question": "Where are alpha apples stored?"})])
    )
    logged = {asked.answer_id: asked for asked in served.base("alpha").asked_questions()}
    assert logged[payload(answered)["id"]].channel == "mcp"
