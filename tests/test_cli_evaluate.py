"""The `rag eval` command, its report files, --compare, and the eval/ runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.__main__ import main as eval_main
from rag.cli.main import main

AGGREGATE_NAMES = {
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "recall@10",
    "recall@100",
    "answer_contains",
    "answer_f1",
    "citation_in_source",
    "citation_contains_answer",
    "first_citation_contains_answer",
    "quote_validity",
    "refusal_precision",
    "refusal_recall",
    "search_p50_ms",
    "search_p95_ms",
    "ask_p50_ms",
    "ask_p95_ms",
}


@pytest.fixture
def question_set(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two documents and a question set about them (one unanswerable question)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ice.txt").write_text("Glaciers are slow rivers of ice. Glaciers carve deep valleys.")
    (docs / "fire.txt").write_text("Lava flows from volcanoes. Volcanoes erupt molten rock.")
    rows = [
        {
            "id": "1",
            "question": "What do glaciers carve?",
            "answers": ["deep valleys"],
            "sources": ["ice.txt"],
        },
        {"id": "2", "question": "What flows from volcanoes?", "answers": ["lava"], "sources": ["fire"]},
        {"id": "3", "question": "Which tennis player won?", "answerable": False},
    ]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return questions, docs


def run_eval(tmp_path: Path, *args: str) -> int:
    return main(["eval", *args, "--model", "hashing-256", "--cache-dir", str(tmp_path / "cache")])


def test_eval_writes_results_report_and_plots(
    tmp_path: Path, question_set: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    questions, docs = question_set
    out = tmp_path / "out"
    assert run_eval(tmp_path, str(questions), "--corpus", str(docs), "--out", str(out), "-k", "3") == 0
    captured = capsys.readouterr()
    assert "quote_validity" in captured.out
    assert "3/3" in captured.err and "questions" in captured.err  # the progress bar
    results = json.loads((out / "results.json").read_text())
    assert set(results["aggregates"]) >= AGGREGATE_NAMES - {"refusal_precision"}
    assert results["settings"]["top_k"] == 3
    assert {"python", "packages", "git_commit"} <= set(results["environment"])
    assert len(results["rows"]) == 3
    assert "| quote_validity |" in (out / "report.md").read_text()
    for plot in ("metric_by_k.png", "latency.png", "outcomes.png"):
        assert (out / plot).read_bytes().startswith(b"\x89PNG")


def test_eval_of_a_beir_folder_with_mode_limit_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": f"Topic {i}", "text": f"word{i} appears here"} for i in range(5)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    queries = [{"_id": f"q{i}", "text": f"word{i}"} for i in range(5)]
    (folder / "queries.jsonl").write_text("".join(json.dumps(query) + "\n" for query in queries))
    qrels = "".join(f"q{i}\td{i}\t1\n" for i in range(5))
    (folder / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    argv = [str(folder), "--split", "dev", "--mode", "lexical", "--limit", "3", "--seed", "1", "--json"]
    assert run_eval(tmp_path, *argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results["rows"]) == 3
    assert results["aggregates"]["ndcg@10"] == 1.0
    assert results["settings"]["retrieval_mode"] == "lexical"


def test_eval_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_eval(tmp_path, str(tmp_path / "missing.jsonl"), "--corpus", str(tmp_path)) == 2
    assert "error: cannot read" in capsys.readouterr().err
    assert run_eval(tmp_path) == 2
    assert "--compare" in capsys.readouterr().err


def test_compare_flags_regressions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = tmp_path / "a.json", tmp_path / "b.json"
    before.write_text(
        json.dumps({"aggregates": {"hit@1": 0.8, "ask_p50_ms": 100.0}, "settings": {"top_k": 5}})
    )
    after.write_text(
        json.dumps({"aggregates": {"hit@1": 0.7, "ask_p50_ms": 101.0}, "settings": {"top_k": 3}})
    )
    assert main(["eval", "--compare", str(before), str(after)]) == 0
    output = capsys.readouterr().out
    assert "hit@1" in output and "REGRESSION" in output and "1 regression(s): hit@1" in output
    assert "top_k: 5 -> 3" in output
    assert main(["eval", "--compare", str(before), str(after), "--fail-on-regression"]) == 1
    assert main(["eval", "--compare", str(before), str(before), "--fail-on-regression"]) == 0


def test_compare_names_the_questions_fixed_and_regressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(outcomes: dict[str, str]) -> Path:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        rows = [{"id": key, "question": f"q {key}", "outcome": value} for key, value in outcomes.items()]
        rows.append({"id": "r", "question": "q r", "outcome": "to review", "review": "not_helpful"})
        path.write_text(json.dumps({"aggregates": {}, "rows": rows}))
        return path

    before = run({"a": "correct", "b": "refused (wrongly)", "c": "correct"})
    after = run({"a": "answered, not found in answer", "b": "correct", "c": "correct"})
    assert main(["eval", "--compare", str(before), str(after), "--fail-on-regression"]) == 1
    output = capsys.readouterr().out
    assert "questions: 1 fixed, 1 regressed" in output
    assert "fixed      b: q b" in output and "REGRESSED  a: q a" in output and "question a" in output


def test_eval_runner_runs_a_dataset_path(
    tmp_path: Path, question_set: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions, docs = question_set
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-256")
    monkeypatch.setenv("RAG_EVAL_CACHE", str(tmp_path / "cache"))
    assert eval_main([str(questions), "--corpus", str(docs), "--out", str(tmp_path / "runs")]) == 0
    assert (tmp_path / "runs" / "questions" / "results.json").is_file()
