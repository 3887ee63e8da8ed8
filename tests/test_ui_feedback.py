"""The chat's feedback logic: thumbs, citation flags and corrections, without a server or a browser."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import rag
from rag.evaluation import dashboard_html, quality_dashboard
from ui import feedback, responses

TEXT = (
    "The Zanzibar spice harbour shipped 4,200 tonnes of cloves in 2021. Dockworkers there use blue cranes."
    "\n\nThe lighthouse keeper of Pemba island paints the tower white every spring."
)


@pytest.fixture
def base(fake_base: rag.KnowledgeBase) -> rag.KnowledgeBase:
    fake_base.add_texts([rag.TextItem("notes/zanzibar.md", TEXT, "Zanzibar")])
    return fake_base


def ask(base: rag.KnowledgeBase, question: str, turns: Sequence[responses.Turn] = ()) -> list[responses.Turn]:
    *_, final = responses.stream_turns(base, question, turns, rag.AskOptions())
    return final


def test_a_thumb_down_on_an_answer_message_stores_feedback_on_that_answer(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves were shipped?")
    turns = ask(base, "Who paints the tower?", turns)
    status = feedback.thumb(base, turns, 1, False, "ana")  # message 1: the first turn's answer
    assert "feedback stored" in status
    (stored,) = base.feedback()
    assert (stored.question, stored.rating, stored.who, stored.channel) == (
        "How many tonnes of cloves were shipped?",
        "not_helpful",
        "ana",
        "ui",
    )
    assert stored.answer_id == turns[0].answer.id  # type: ignore[union-attr]


def test_a_thumb_on_an_unfinished_answer_asks_to_wait(base: rag.KnowledgeBase) -> None:
    pending = [responses.Turn("Who paints the tower?")]
    assert "Wait for the answer" in feedback.thumb(base, pending, 1, True, "")
    assert base.feedback() == []


def test_the_panel_offers_flags_for_the_latest_answers_citations_and_stores_them(
    base: rag.KnowledgeBase,
) -> None:
    turns = ask(base, "Who paints the tower white?")
    choices = feedback.flag_choices(turns)
    assert ("[1] wrong document", "1:wrong_document") in choices
    texts = ("not this quote", "", "Pemba island   paints the tower")
    status = feedback.panel_feedback(base, turns, "not_helpful", ["1:does_not_support"], texts, "")
    assert "found in zanzibar.md" in status  # by its name, as citations show it
    (stored,) = base.feedback()
    assert stored.citations[0].flags == ("does_not_support",) and stored.comment == "not this quote"
    assert stored.better_source is not None and stored.better_source.text == "Pemba island paints the tower"


def test_the_panel_says_what_is_wrong_with_a_passage_found_nowhere(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "Who paints the tower white?")
    status = feedback.panel_feedback(base, turns, None, [], ("", "", "words in no document"), "")
    assert "error" in status and "not in any document" in status
    assert (
        feedback.panel_feedback(base, [], "helpful", [], ("", "", ""), "").count("Ask a question first") == 1
    )


def test_the_quality_tab_shows_questions_ratings_flagged_and_stale_documents(base: rag.KnowledgeBase) -> None:
    assert "No feedback yet" in dashboard_html(quality_dashboard([base]))
    *_, turns = responses.stream_turns(base, "Who paints the tower white?", [], rag.AskOptions(channel="ui"))
    feedback.panel_feedback(base, turns, "not_helpful", ["1:wrong_document"], ("", "", ""), "")
    feedback.thumb(base, turns, 1, True, "")
    base.add_texts([rag.TextItem("notes/zanzibar.md", TEXT.replace("white", "blue"), "Zanzibar")])
    html = dashboard_html(quality_dashboard([base]))
    assert "id='dash-questions'>1<" in html and "id='dash-answered-share'>100%<" in html
    assert "2 feedback: 1 helpful, 1 not helpful" in html
    assert "<table id='dash-flagged'>" in html
    assert "<td>notes/zanzibar.md</td><td class='num'>1</td>" in html  # flagged once, cited by one question
    assert "notes/zanzibar.md: changed since feedback" in html
    assert html.count("<svg") == 3  # questions and feedback per day, the most cited documents


def test_a_thumb_on_a_follow_up_keeps_the_conversation_before_it(base: rag.KnowledgeBase) -> None:
    turns = ask(base, "How many tonnes of cloves were shipped?")
    turns = ask(base, "Who paints the tower?", turns)
    feedback.thumb(base, turns, 3, True, "")  # message 3: the second turn's answer
    (stored,) = base.feedback()
    assert stored.history[0]["content"] == "How many tonnes of cloves were shipped?"
    assert [turn["role"] for turn in stored.history] == ["user", "assistant"]


def test_with_several_collections_feedback_and_the_question_go_to_the_collection_that_answered(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folders = {"alpha": tmp_path / "alpha", "zanzibar": tmp_path / "zanzibar"}
    with rag.open(folders["alpha"], embedder=fake_embedder) as alpha:
        alpha.add_texts([rag.TextItem("alpha.md", "Alpha apples are stored in a cold cellar.")])
    with rag.open(folders["zanzibar"], embedder=fake_embedder) as zanzibar:
        zanzibar.add_texts([rag.TextItem("notes/zanzibar.md", TEXT, "Zanzibar")])
    served = rag.open_collections(folders, embedder=fake_embedder)
    both = served.select(served.names)
    *_, turns = responses.stream_turns(both, "Who paints the tower white?", [], rag.AskOptions(channel="ui"))
    assert turns[-1].answer is not None and turns[-1].answer.citations[0].collection == "zanzibar"
    assert "feedback stored" in feedback.thumb(served.answered_in, turns, 1, True, "")
    assert [item.rating for item in served.base("zanzibar").feedback()] == ["helpful"]
    assert served.base("alpha").feedback() == []
    (logged,) = served.base("zanzibar").asked_questions()
    assert (logged.collection, logged.channel) == ("zanzibar", "ui")
    assert served.base("alpha").asked_questions() == []
    values = quality_dashboard([served.base(name) for name in served.names])
    assert (values["questions"], values["never_cited_documents"]) == (1, ["alpha.md"])


def test_a_visitor_is_told_feedback_was_stored_without_seeing_server_paths(
    fake_base: rag.KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "server-only" / "zanzibar.md"
    notes.parent.mkdir()
    notes.write_text(TEXT)
    fake_base.ingest([notes])
    turns = ask(fake_base, "Who paints the tower white?")
    status = feedback.panel_feedback(
        fake_base, turns, None, [], ("", "", "Pemba island paints the tower"), ""
    )
    assert "feedback stored" in status and "found in zanzibar.md" in status
    assert str(tmp_path) not in status and "server-only" not in status
    (stored,) = fake_base.feedback()
    assert stored.better_source is not None and stored.better_source.source == str(notes)
    missing = feedback.panel_feedback(fake_base, turns, None, [], ("", "", "words in no document"), "")
    assert "not in any document" in missing and str(tmp_path) not in missing
    assert str(notes) in capsys.readouterr().err  # the server's log keeps where the passage is


def test_a_visitor_is_not_shown_the_index_folder_when_feedback_is_off(tmp_path: Path) -> None:
    settings = rag.Settings(feedback_days=0)
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(64), settings=settings) as base:
        base.add_texts([rag.TextItem("notes/zanzibar.md", TEXT, "Zanzibar")])
        turns = ask(base, "Who paints the tower white?")
        status = feedback.thumb(base, turns, 1, True, "")
    assert "error" in status and "feedback is turned off" in status and str(tmp_path) not in status
