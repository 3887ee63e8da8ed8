"""The quality dashboard: its numbers from the question log, feedback and eval runs; `rag report`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.cli.main import main
from rag.evaluation import quality_dashboard
from rag.evaluation.dashboard import eval_history
from rag.storage.question_log import AskedQuestion, CitedDocument

AMBER = "The amber river floods the valley every spring.\n\nThe birch forest grows on the northern hills."
CEDAR = "Cedar boats are built in the harbour. Each cedar boat takes nine months to build."
PENGUIN = "Penguins of the southern ice eat krill and small fish."
MODEL = ["--model", "hashing-256"]


@pytest.fixture
def folder(tmp_path: Path, fake_embedder: rag.Embedder) -> Path:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(
            [
                rag.TextItem("amber.txt", AMBER),
                rag.TextItem("cedar.txt", CEDAR),
                rag.TextItem("ice.txt", PENGUIN),
            ]
        )
        log = [
            ("2026-12-01T09:00:00+00:00", "When does the amber river flood?", True, 40.0, "amber.txt"),
            ("2026-12-01T10:00:00+00:00", "Where does the river flood?", True, 900.0, "amber.txt"),
            ("2026-12-02T09:00:00+00:00", "How long does a cedar boat take?", True, 120.0, "cedar.txt"),
            ("2026-12-02T11:00:00+00:00", "Who won the 1930 world cup?", False, 300.0, ""),
        ]
        for number, (asked_at, question, answered, latency, source) in enumerate(log):
            cited = (CitedDocument("id-" + source, source),) if source else ()
            asked = AskedQuestion(question, answered, "extractive", latency, cited, f"ans-{number}", "", "ui")
            base.sqlite_store().log_question(AskedQuestion(**{**asked.__dict__, "asked_at": asked_at}))
        answer = base.ask("When does the amber river flood?")
        base.add_feedback(rag.feedback_on(answer.to_dict(), "not_helpful", {1: ["wrong_document"]}))
    return folder


def write_run(folder: Path, finished_at: str, answer_contains: float) -> None:
    folder.mkdir(parents=True)
    results = {
        "dataset": "/sets/from-feedback.jsonl",
        "environment": {"finished_at": finished_at},
        "aggregates": {"answer_contains": answer_contains, "answered_rate": 1.0, "ask_p50_ms": 80.0},
        "rows": [{}, {}],
    }
    (folder / "results.json").write_text(json.dumps(results))


def test_the_dashboard_counts_questions_feedback_latency_and_citations(
    folder: Path, fake_embedder: rag.Embedder
) -> None:
    with rag.open(folder, embedder=fake_embedder) as base:
        values = quality_dashboard([base])
    assert (values["questions"], values["answered"], values["refused"], values["answered_share"]) == (
        4,
        3,
        1,
        0.75,
    )
    assert values["questions_by_day"] == {
        "2026-12-01": {"answered": 2, "refused": 0},
        "2026-12-02": {"answered": 1, "refused": 1},
    }
    assert [item["latency_ms"] for item in values["slowest_questions"]] == [900.0, 300.0, 120.0, 40.0]
    assert values["most_cited_documents"][0] == {"source": "amber.txt", "questions": 2}
    assert (values["never_cited_count"], values["never_cited_documents"]) == (1, ["ice.txt"])
    assert values["feedback"]["not_helpful"] == 1 and values["feedback_rate"] == 0.25
    assert values["feedback"]["most_flagged_documents"][0]["flags"] == 1
    assert values["channels"] == {"ui": 4} and values["median_latency_ms"] == 300.0
    with rag.open(folder, embedder=fake_embedder) as base:
        later = quality_dashboard([base], since="2026-12-02")
    assert (later["questions"], later["refused"], later["slowest_questions"][0]["latency_ms"]) == (
        2,
        1,
        300.0,
    )
    assert later["most_cited_documents"] == [{"source": "cedar.txt", "questions": 1}]


def test_eval_history_reads_results_files_oldest_first_and_skips_others(tmp_path: Path) -> None:
    write_run(tmp_path / "runs" / "b", "2026-12-03T10:00:00+00:00", 0.8)
    write_run(tmp_path / "runs" / "a", "2026-12-05T10:00:00+00:00", 0.9)
    (tmp_path / "runs" / "junk").mkdir()
    (tmp_path / "runs" / "junk" / "results.json").write_text("{not json")
    runs = eval_history([tmp_path / "runs"])
    assert [run["metrics"]["answer_contains"] for run in runs] == [0.8, 0.9]
    assert runs[0]["dataset"] == "from-feedback.jsonl" and runs[0]["questions"] == 2
    assert "ask_p50_ms" not in runs[0]["metrics"]  # only the fractions followed over time


def test_rag_report_writes_one_html_page_with_charts_and_the_numbers(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_run(tmp_path / "runs" / "one", "2026-12-03T10:00:00+00:00", 0.8)
    write_run(tmp_path / "runs" / "two", "2026-12-05T10:00:00+00:00", 0.9)
    out = tmp_path / "out" / "report.html"
    arguments = ["--index", str(folder), *MODEL, "--runs", str(tmp_path / "runs")]
    assert main(["report", *arguments, "--out", str(out)]) == 0
    assert "4 questions, 1 feedback, 2 evaluation runs" in capsys.readouterr().err
    page = out.read_text()
    assert (
        page.startswith("<!doctype html>") and page.count("<svg") == 4
    )  # questions, feedback, documents, runs
    assert "id='dash-questions'>4<" in page and "id='dash-answered-share'>75%<" in page
    assert "Who won the 1930 world cup?" in page and "<li>ice.txt</li>" in page
    assert "<td class='num'>0.900</td>" in page  # the second run's answer_contains
    assert not any(
        fetch in page for fetch in ("src=", "<link", "<script", "url(http")
    )  # one file, nothing fetched
    assert main(["report", *arguments, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 4


def test_rag_report_refuses_an_unwritable_out_in_one_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    assert main(["report", "--index", str(folder), *MODEL, "--out", str(tmp_path / "taken" / "r.html")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot write")
