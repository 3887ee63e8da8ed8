"""The question log: one row per question asked through a channel, kept in the index, private on request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Served

import rag
from rag.cli.main import main
from rag.storage.question_log import AskedQuestion
from rag.storage.store import DATABASE_NAME

AMBER = "The amber river floods the valley every spring.\n\nThe birch forest grows on the northern hills."
MODEL = ["--model", "hashing-256"]


def make_index(folder: Path, embedder: rag.Embedder) -> Path:
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("amber.txt", AMBER)])
    return folder


def test_a_cli_question_is_logged_with_its_outcome_latency_and_cited_document(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    assert main(["ask", "When does the amber river flood?", "--index", str(folder), *MODEL, "--json"]) == 0
    assert main(["ask", "What do penguins eat in Lisbon?", "--index", str(folder), *MODEL]) == 0
    with rag.open(folder, embedder=fake_embedder) as base:
        answered, refused = base.asked_questions()
        (document,) = base.documents()
    assert (answered.question, answered.answered, answered.channel) == (
        "When does the amber river flood?",
        True,
        "cli",
    )
    assert answered.answer_id.startswith("ans-") and answered.latency_ms > 0
    assert answered.mode == "extractive" and answered.asked_at.startswith("20")
    assert [cited.source for cited in answered.cited] == ["amber.txt"]
    assert answered.cited[0].document_id == document.id
    assert (refused.answered, refused.cited) == (False, ())


def test_only_questions_that_name_a_channel_are_logged(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    with rag.open(make_index(tmp_path / "index", fake_embedder), embedder=fake_embedder) as base:
        base.ask("When does the amber river flood?")  # a library call or an evaluation: not logged
        assert base.asked_questions() == []
        answer = base.ask("Where does the birch forest grow?", rag.AskOptions(channel="ui", asked_by="ana"))
        (logged,) = base.asked_questions()
    assert (logged.answer_id, logged.who, logged.channel) == (answer.id, "ana", "ui")


def test_the_log_can_be_turned_off_by_setting_environment_and_flag(
    tmp_path: Path, fake_embedder: rag.Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    options = rag.AskOptions(channel="api")
    with rag.open(folder, rag.Settings(log_questions=False), embedder=fake_embedder) as base:
        base.ask("When does the amber river flood?", options)
    assert main(["ask", "When does it flood?", "--index", str(folder), *MODEL, "--no-question-log"]) == 0
    monkeypatch.setenv("RAG_LOG_QUESTIONS", "0")
    assert main(["ask", "When does it flood?", "--index", str(folder), *MODEL]) == 0
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.settings.log_questions is False
        assert base.asked_questions() == []
    monkeypatch.setenv("RAG_LOG_QUESTIONS", "maybe")
    assert main(["ask", "When does it flood?", "--index", str(folder), *MODEL]) == 2


def test_questions_older_than_the_retention_period_go(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, rag.Settings(question_log_days=30), embedder=fake_embedder) as base:
        old = AskedQuestion("an old question", True, "extractive", 12.0, asked_at="2020-01-01T00:00:00+00:00")
        base.log_question(old)
        assert [asked.question for asked in base.asked_questions()] == []  # already past its time
        base.sqlite_store().log_question(old)  # written as it was, before a retention period was set
        base.ask("When does the amber river flood?", rag.AskOptions(channel="cli"))
        assert [asked.question for asked in base.asked_questions()] == ["When does the amber river flood?"]
    with pytest.raises(rag.SettingsError, match="RAG_LOG_QUESTIONS=0"):
        rag.Settings(question_log_days=0)


def test_rag_feedback_delete_removes_a_persons_questions_or_one_answers(
    tmp_path: Path, fake_embedder: rag.Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        first = base.ask("When does it flood?", rag.AskOptions(channel="ui", asked_by="ana"))
        base.ask("Where is the birch forest?", rag.AskOptions(channel="ui", asked_by="ana"))
        kept = base.ask("What floods?", rag.AskOptions(channel="ui", asked_by="bo"))
        base.add_feedback(rag.feedback_on(first.to_dict(), "helpful", who="ana"))
    assert main(["feedback", "--delete", kept.id, "--index", str(folder), *MODEL]) == 0
    assert "deleted 0 feedback and 1 logged questions" in capsys.readouterr().out
    assert main(["feedback", "--delete-by", "ana", "--index", str(folder), *MODEL]) == 0
    assert "deleted 1 feedback and 2 logged questions" in capsys.readouterr().out
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.asked_questions() == [] and base.feedback() == []


def test_an_index_of_format_5_gains_an_empty_question_log(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(
            "DROP TABLE question_log; UPDATE manifest SET value = '5' WHERE key = 'format_version';"
        )
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.store.manifest()["format_version"] == "6"
        assert base.asked_questions() == []
        base.ask("When does the amber river flood?", rag.AskOptions(channel="cli"))
        assert len(base.asked_questions()) == 1


def test_a_served_question_is_logged_in_the_collection_that_answered(served: Served) -> None:
    import httpx

    headers = {"Authorization": "Bearer admin-key-for-everything"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as client:
        question = "How long does a beta boat take to build?"
        response = client.post("/v1/ask", json={"question": question, "collections": ["alpha", "beta"]})
        assert response.status_code == 200, response.text
        answer_id = response.json()["id"]
        refused = client.post("/v1/ask", json={"question": "Who won the 1930 world cup?"}).json()["id"]
    logged = {asked.answer_id: asked for asked in served.base("beta").asked_questions()}
    assert logged[answer_id].collection == "beta" and logged[answer_id].channel == "api"
    assert logged[answer_id].who == "key #4" and logged[answer_id].cited[0].source == "beta.md"
    assert answer_id not in {asked.answer_id for asked in served.base("alpha").asked_questions()}
    assert refused in {asked.answer_id for asked in served.base("alpha").asked_questions()}


def test_rag_serve_no_question_log_reaches_the_served_settings() -> None:
    from rag.cli.main import build_parser
    from rag.cli.serve import config_from

    args = build_parser().parse_args(["serve", "--index", "some-index", "--no-question-log"])
    config = config_from(args)
    assert config.settings is not None and config.settings.log_questions is False
