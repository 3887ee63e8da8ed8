"""Feedback and the question log in a PostgreSQL index: the folder's tables and operations, in the database."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg
import pytest
from test_feedback import check_feedback_set_round_trip

import rag
from eval.ports import listen_port
from rag.cli.main import main
from rag.evaluation.dashboard import quality_dashboard
from rag.serve import RunningServer, ServeConfig
from rag.storage.question_log import AskedQuestion

pytestmark = pytest.mark.postgres
AMBER = "The amber river floods the valley every spring.\n\nThe birch forest grows on the northern hills."
CEDAR = "Cedar boats are built in the harbour. Each cedar boat takes nine months to build."
MODEL = ["--model", "hashing-256"]


def make_index(url: str, embedder: rag.Embedder) -> list[str]:
    with rag.open(url, embedder=embedder) as base:
        base.add_texts([rag.TextItem("amber.txt", AMBER), rag.TextItem("cedar.txt", CEDAR)])
    return ["--index", url, *MODEL]


def test_cli_feedback_on_rag_ask_json_is_stored_and_listed_from_the_database(
    postgres_url: str, fake_embedder: rag.Embedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = make_index(postgres_url, fake_embedder)
    assert main(["ask", "When does the amber river flood?", "--json", *index]) == 0
    answer_file = tmp_path / "answer.json"
    answer_file.write_text(capsys.readouterr().out)
    flagged = ["--flag", "1:wrong_document", "--comment", "wrong river", "--who", "ana"]
    assert main(["feedback", str(answer_file), "--down", *flagged, *index]) == 0
    assert main(["feedback", "--list", *index]) == 0
    assert "by ana (cli): not_helpful; [1] wrong_document; comment: wrong river" in capsys.readouterr().out
    with rag.open(postgres_url, embedder=fake_embedder) as base:
        (stored,) = base.feedback()
        (document,) = [info for info in base.documents() if info.source == "amber.txt"]
        assert base.feedback(since="2999-01-01") == []
        # Pasted words are found across rewrapped white space, in the database's text.
        answer = json.loads(answer_file.read_text())
        pasted = base.add_feedback(rag.feedback_on(answer, "helpful"), passage="birch forest   grows\non the")
    assert stored.answer_id == answer["id"] and stored.citations[0].content_hash
    assert stored.citations[0].document_id == document.id and stored.code_version.startswith(rag.__version__)
    source = pasted.better_source
    assert source is not None and source.source == "amber.txt"
    assert AMBER[source.start : source.end] == source.text == "birch forest grows on the"


def test_eval_from_feedback_of_a_database_writes_a_set_that_rag_eval_runs(
    postgres_url: str, fake_embedder: rag.Embedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = make_index(postgres_url, fake_embedder)
    check_feedback_set_round_trip(postgres_url, fake_embedder, index, tmp_path / "set.jsonl", capsys)


def test_questions_asked_through_a_channel_are_logged_and_counted_by_the_dashboard(
    postgres_url: str, fake_embedder: rag.Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    index = make_index(postgres_url, fake_embedder)
    assert main(["ask", "When does the amber river flood?", *index]) == 0
    with rag.open(postgres_url, embedder=fake_embedder) as base:
        base.ask("Where do cedar boats come from?")  # no channel: not logged
        answer = base.ask("How long does a cedar boat take?", rag.AskOptions(channel="ui", asked_by="ana"))
        base.ask("What do penguins eat in Lisbon?", rag.AskOptions(channel="api"))
        cli, ui, refused = base.asked_questions()
        base.add_feedback(rag.feedback_on(answer.to_dict(), "helpful", who="ana"))
        values = quality_dashboard([base])
    assert (cli.channel, cli.answered, [cited.source for cited in cli.cited]) == ("cli", True, ["amber.txt"])
    assert (ui.answer_id, ui.who, ui.channel, ui.latency_ms > 0) == (answer.id, "ana", "ui", True)
    assert (refused.answered, refused.cited) == (False, ())
    assert (values["questions"], values["answered"], values["refused"]) == (3, 2, 1)
    assert values["channels"] == {"cli": 1, "ui": 1, "api": 1}
    assert sum(day["answered"] for day in values["questions_by_day"].values()) == 2
    assert {item["source"] for item in values["most_cited_documents"]} == {"amber.txt", "cedar.txt"}
    assert values["never_cited_count"] == 0 and values["feedback"]["helpful"] == 1
    assert values["feedback_rate"] == round(1 / 3, 4)
    slowest = [item["latency_ms"] for item in values["slowest_questions"]]
    assert slowest == sorted(slowest, reverse=True) and len(slowest) == 3
    capsys.readouterr()
    assert main(["report", *index, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 3


def test_feedback_and_questions_are_deleted_by_person_id_and_retention(
    postgres_url: str, fake_embedder: rag.Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    index = make_index(postgres_url, fake_embedder)
    with rag.open(postgres_url, embedder=fake_embedder) as base:
        first = base.ask("When does it flood?", rag.AskOptions(channel="ui", asked_by="ana"))
        base.ask("Where is the birch forest?", rag.AskOptions(channel="ui", asked_by="ana"))
        kept = base.ask("What floods?", rag.AskOptions(channel="ui", asked_by="bo"))
        base.add_feedback(rag.feedback_on(first.to_dict(), "helpful", who="ana"))
        bos = base.add_feedback(rag.feedback_on(kept.to_dict(), "helpful", who="bo"))
    assert main(["feedback", "--delete", kept.id, *index]) == 0
    assert "deleted 0 feedback and 1 logged questions" in capsys.readouterr().out
    assert main(["feedback", "--delete-by", "ana", *index]) == 0
    assert "deleted 1 feedback and 2 logged questions" in capsys.readouterr().out
    settings = rag.Settings(question_log_days=30, feedback_days=30)
    with rag.open(postgres_url, settings, embedder=fake_embedder) as base:
        assert base.asked_questions() == [] and base.feedback() == [bos]
        old = AskedQuestion("an old question", True, "extractive", 12.0, asked_at="2020-01-01T00:00:00+00:00")
        base.engine_store().log_question(old)  # written before a retention period was set
        base.ask("When does the amber river flood?", rag.AskOptions(channel="cli"))
        assert [asked.question for asked in base.asked_questions()] == ["When does the amber river flood?"]
        base.add_feedback(
            replace(rag.feedback_on(kept.to_dict(), "helpful"), created_at="2020-01-01T00:00:00")
        )
        assert base.feedback() == [bos]  # the old one went as it came
        assert base.delete_feedback([bos.id]) == 1 and base.feedback() == []


def test_a_database_index_made_before_the_tables_gets_them_at_its_first_feedback(
    postgres_url: str, fake_embedder: rag.Embedder
) -> None:
    make_index(postgres_url, fake_embedder)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DROP TABLE feedback, question_log")
    with rag.open(postgres_url, embedder=fake_embedder) as base:
        assert base.feedback() == [] and base.asked_questions() == []
        assert quality_dashboard([base])["questions"] == 0 and base.delete_feedback(who="ana") == 0
        answer = base.ask("When does the amber river flood?", rag.AskOptions(channel="ui"))
        stored = base.add_feedback(rag.feedback_on(answer.to_dict(), "helpful"))
        assert base.feedback() == [stored] and len(base.asked_questions()) == 1


def test_a_served_database_collection_logs_the_question_and_takes_post_v1_feedback(
    postgres_url: str, fake_embedder: rag.Embedder
) -> None:
    make_index(postgres_url, fake_embedder)
    server = RunningServer(ServeConfig({"team": postgres_url}, port=listen_port()), embedder=fake_embedder)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answer = http.post("/v1/ask", json={"question": "How long does a cedar boat take?"}).json()
            body = {"id": answer["id"], "rating": "down", "citation": 1, "flag": "wrong_document"}
            body |= {"source": "built in the  harbour", "comment": "wrong part"}
            response = http.post("/v1/feedback", json=body)
            assert response.status_code == 200, response.text
    finally:
        server.stop()
    with rag.open(postgres_url, embedder=fake_embedder) as base:
        (stored,) = base.feedback()
        (asked,) = base.asked_questions()
    assert (stored.id, stored.answer_id, stored.channel) == (response.json()["id"], answer["id"], "api")
    assert stored.citations[0].flags == ("wrong_document",) and stored.comment == "wrong part"
    assert stored.better_source is not None and stored.better_source.text == "built in the harbour"
    assert (asked.answer_id, asked.channel, asked.collection) == (answer["id"], "api", "team")


def test_an_older_index_gets_its_own_tables_not_those_of_an_index_later_on_its_path(
    postgres_url: str, fake_embedder: rag.Embedder
) -> None:
    schema = postgres_url.split("search_path%3D")[1].split(",")[0]
    later = f"later_{schema}"  # a newer index, with the tables, in a schema after the older one's
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {later}")
    later_url = postgres_url.replace(f"%3D{schema},", f"%3D{later},")
    both_url = postgres_url.replace(f"%3D{schema},", f"%3D{schema},{later},")
    try:
        make_index(later_url, fake_embedder)
        make_index(postgres_url, fake_embedder)
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("DROP TABLE feedback, question_log")  # made before them
        with rag.open(both_url, embedder=fake_embedder) as base:
            assert base.feedback() == []
            answer = base.ask("When does the amber river flood?", rag.AskOptions(channel="ui"))
            stored = base.add_feedback(rag.feedback_on(answer.to_dict(), "helpful"))
            assert base.feedback() == [stored] and len(base.asked_questions()) == 1
        with rag.open(later_url, embedder=fake_embedder) as newer:
            assert newer.feedback() == [] and newer.asked_questions() == []
        with rag.open(postgres_url, embedder=fake_embedder) as older:
            assert older.feedback() == [stored]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {later} CASCADE")
