"""Feedback on answers: stored in the index with the answer as it was, listed, turned into a question set."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

import rag
from rag.cli.main import main
from rag.evaluation.datasets import load_questions
from rag.evaluation.scoring import question_row
from rag.storage.schema import FORMAT_VERSION
from rag.storage.store import DATABASE_NAME

AMBER = "The amber river floods the valley every spring.\n\nThe birch forest grows on the northern hills."
CEDAR = "Cedar boats are built in the harbour. Each cedar boat takes nine months to build."


def make_index(folder: Path, embedder: rag.Embedder) -> Path:
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("amber.txt", AMBER), rag.TextItem("cedar.txt", CEDAR)])
    return folder


def test_feedback_is_stored_with_the_answer_and_listed(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    with rag.open(make_index(tmp_path / "index", fake_embedder), embedder=fake_embedder) as base:
        answer = base.ask("When does the amber river flood?")
        assert answer.id.startswith("ans-")
        given = rag.feedback_on(
            answer.to_dict(), "not_helpful", {1: ["does_not_support"]}, comment="too vague", who="ana"
        )
        stored = base.add_feedback(given, passage="The birch forest   grows\non the northern hills.")
        listed = base.feedback()
    assert listed == [stored]
    feedback = listed[0]
    assert feedback.id.startswith("fb-") and feedback.created_at.startswith("20")
    assert (feedback.question, feedback.answer_id, feedback.who) == (answer.question, answer.id, "ana")
    assert feedback.citations[0].flags == ("does_not_support",)
    assert feedback.citations[0].content_hash  # the cited document's hash at the time
    assert feedback.settings["top_k"] == base.settings.top_k and feedback.code_version.startswith(
        rag.__version__
    )
    source = feedback.better_source
    assert source is not None and source.source == "amber.txt"
    assert AMBER[source.start : source.end] == source.text  # found across the pasted white space


def test_feedback_needs_something_said_and_known_citations(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    with rag.open(make_index(tmp_path / "index", fake_embedder), embedder=fake_embedder) as base:
        answer = base.ask("When does the amber river flood?").to_dict()
        with pytest.raises(rag.FeedbackError, match="say something"):
            base.add_feedback(rag.feedback_on(answer))
        with pytest.raises(rag.FeedbackError, match="no citation"):
            rag.feedback_on(answer, "helpful", {9: ["wrong_document"]})
        with pytest.raises(rag.FeedbackError, match="not in any document"):
            base.add_feedback(rag.feedback_on(answer, "not_helpful"), passage="words found nowhere")


def test_an_index_of_format_3_gets_the_feedback_table(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(
            "DROP TABLE feedback; UPDATE manifest SET value = '3' WHERE key = 'format_version';"
        )
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.store.manifest()["format_version"] == str(FORMAT_VERSION) == "6"
        assert base.feedback() == []


def test_feedback_on_a_document_changed_since_is_stale(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        answer = base.ask("When does the amber river flood?")
        base.add_feedback(rag.feedback_on(answer.to_dict(), "helpful"))
        base.add_texts([rag.TextItem("amber.txt", AMBER.replace("spring", "autumn"))])
    assert main(["feedback", "--summary", "--json", "--index", str(folder), "--model", "hashing-256"]) == 0
    out = tmp_path / "set.jsonl"
    assert (
        main(["eval", "--from-feedback", "--index", str(folder), "--out", str(out), "--model", "hashing-256"])
        == 0
    )
    row = json.loads(out.read_text())
    assert row["review"] == "stale: amber.txt changed"


def test_from_feedback_writes_a_set_that_rag_eval_runs(
    tmp_path: Path, fake_embedder: rag.Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    index = ["--index", str(folder), "--model", "hashing-256"]
    check_feedback_set_round_trip(folder, fake_embedder, index, tmp_path / "set.jsonl", capsys)


def check_feedback_set_round_trip(
    location: str | Path,
    embedder: rag.Embedder,
    index: list[str],
    out: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Feedback on three answers of the amber/cedar index at `location` (a folder or a database)
    becomes a question set that `rag eval` scores, and a cited document changed since marks its question."""
    with rag.open(location, embedder=embedder) as base:
        corrected = base.ask("How long does a cedar boat take?").to_dict()
        base.add_feedback(rag.feedback_on(corrected, "not_helpful", corrected_answer="nine months"))
        pasted = base.ask("Where does the birch forest grow?").to_dict()
        base.add_feedback(rag.feedback_on(pasted, "not_helpful"), passage="on the northern hills")
        base.add_feedback(rag.feedback_on(base.ask("What is the amber river?").to_dict(), "not_helpful"))
    assert main(["eval", "--from-feedback", "--since", "2000-01-01", "--out", str(out), *index]) == 0
    rows = {row["question"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert rows["How long does a cedar boat take?"]["answers"] == ["nine months"]
    assert rows["Where does the birch forest grow?"]["sources"] == ["amber.txt"]
    assert rows["Where does the birch forest grow?"]["answers"] == ["on the northern hills"]
    assert rows["What is the amber river?"]["review"] == "not_helpful"
    capsys.readouterr()
    assert main(["eval", str(out), "--json", *index]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["aggregates"]["questions_to_review"] == 1
    assert results["aggregates"]["answer_contains"] == 1.0  # both gold answers are quoted now
    assert {row["outcome"] for row in results["rows"]} == {"correct", "to review"}
    # A cited document changed since: the question is marked, not silently scored.
    with rag.open(location, embedder=embedder) as base:
        base.add_texts([rag.TextItem("cedar.txt", CEDAR.replace("nine", "ten"))])
    assert main(["eval", "--from-feedback", "--out", str(out), *index]) == 0
    rows = {row["question"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert rows["How long does a cedar boat take?"]["review"] == "stale: cedar.txt changed"


def test_cli_gives_feedback_on_the_json_of_rag_ask(
    tmp_path: Path, fake_embedder: rag.Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    index = ["--index", str(folder), "--model", "hashing-256"]
    assert main(["ask", "When does the amber river flood?", "--json", *index]) == 0
    answer_file = tmp_path / "answer.json"
    answer_file.write_text(capsys.readouterr().out)
    flagged = ["--flag", "1:wrong_document", "--comment", "wrong river", "--who", "ana"]
    assert main(["feedback", str(answer_file), "--down", *flagged, *index]) == 0
    assert main(["feedback", "--list", *index]) == 0
    listed = capsys.readouterr().out
    assert "by ana (cli): not_helpful; [1] wrong_document; comment: wrong river" in listed
    assert main(["feedback", str(answer_file), "--flag", "1:nonsense", *index]) == 2
    assert "citation flag must be one of" in capsys.readouterr().err


def test_feedback_is_deleted_by_id_or_person_and_can_be_turned_off(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        answer = base.ask("When does the amber river flood?").to_dict()
        first, _, third = (
            base.add_feedback(rag.feedback_on(answer, "helpful", who=who)) for who in ("ana", "ana", "bo")
        )
        assert base.delete_feedback([first.id]) == 1
        assert base.delete_feedback(who="ana") == 1
        assert [item.id for item in base.feedback()] == [third.id]
    off = rag.Settings(feedback_days=0)
    with (
        rag.open(folder, off, embedder=fake_embedder) as base,
        pytest.raises(rag.FeedbackError, match="turned off"),
    ):
        base.add_feedback(rag.feedback_on(answer, "helpful"))


def test_feedback_older_than_the_retention_period_goes(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, rag.Settings(feedback_days=30), embedder=fake_embedder) as base:
        answer = base.ask("When does the amber river flood?").to_dict()
        base.add_feedback(replace(rag.feedback_on(answer, "helpful"), created_at="2020-01-01T00:00:00+00:00"))
        kept = base.add_feedback(rag.feedback_on(answer, "not_helpful"))
        assert [item.id for item in base.feedback()] == [kept.id]


def test_feedback_on_a_follow_up_keeps_its_conversation_and_the_set_asks_it_there(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = tmp_path / "index"
    huts = "Birch huts take two weeks to build. How long does a birch hut take to build? Two weeks."
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts([rag.TextItem("huts.txt", huts), rag.TextItem("cedar.txt", CEDAR)])
    history = [
        {"role": "user", "content": "Tell me about the cedar boats in the harbour."},
        {"role": "assistant", "content": "Cedar boats are built in the harbour. [1]"},
    ]
    question = "How long does it take to build?"
    with rag.open(folder, embedder=fake_embedder) as base:
        follow_up = base.ask(question, rag.AskOptions(history=history))
        alone = base.ask(question)
        base.add_feedback(rag.feedback_on(follow_up.to_dict(), "helpful", history=tuple(history)))
        base.add_feedback(rag.feedback_on(alone.to_dict(), "helpful"))
        kept, other = base.feedback()
    assert list(kept.history) == history and other.history == ()
    set_path = tmp_path / "set.jsonl"
    arguments = ["--index", str(folder), "--model", "hashing-256", "--out", str(set_path)]
    assert main(["eval", "--from-feedback", *arguments]) == 0
    rows = [json.loads(line) for line in set_path.read_text().splitlines()]
    assert len(rows) == 2  # the same words, asked in two conversations: two questions
    assert rows[0]["history"] == history and "history" not in rows[1]
    assert (rows[0]["sources"], rows[1]["sources"]) == (["cedar.txt"], ["huts.txt"])
    in_conversation, on_its_own = load_questions(set_path)
    assert in_conversation.history == tuple(history)
    with rag.open(folder, embedder=fake_embedder) as base:
        # Asked in its conversation, the follow-up is about the boats again, as it was then.
        assert question_row(base, in_conversation).ranked[0] == "cedar.txt"
        assert question_row(base, on_its_own).ranked[0] == "huts.txt"


def test_an_index_of_format_5_gives_older_feedback_an_empty_conversation(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = make_index(tmp_path / "index", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_feedback(rag.feedback_on(base.ask("When does the amber river flood?").to_dict(), "helpful"))
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(
            "ALTER TABLE feedback DROP COLUMN history; DROP TABLE question_log;"
            " UPDATE manifest SET value = '5' WHERE key = 'format_version';"
        )
    with rag.open(folder, embedder=fake_embedder) as base:
        (older,) = base.feedback()
        assert older.history == () and base.store.manifest()["format_version"] == "6"
