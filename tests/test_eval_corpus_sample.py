"""eval.corpus_sample and `python -m eval --corpus-sample`: a smaller BEIR folder that keeps every judged document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.__main__ import main
from eval.corpus_sample import SampleError, sample_beir


def beir_folder(root: Path, documents: int = 40) -> Path:
    """Queries q0-q9, each judging documents d<i> and d<i+10> relevant; d20.. judged by none."""
    folder = root / "beir"
    (folder / "qrels").mkdir(parents=True)
    rows = [
        {"_id": f"d{number}", "title": f"T{number}", "text": f"text {number}"} for number in range(documents)
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    queries = [{"_id": f"q{number}", "text": f"question {number}"} for number in range(10)]
    (folder / "queries.jsonl").write_text("".join(json.dumps(row) + "\n" for row in queries))
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"q{number}\td{number + offset}\t1" for number in range(10) for offset in (0, 10)]
    lines.append("q0\td39\t0")  # judged not relevant: not kept for it
    (folder / "qrels" / "train.tsv").write_text("\n".join(lines) + "\n")
    return folder


def ids(path: Path) -> list[str]:
    return [json.loads(line)["_id"] for line in path.read_text().splitlines()]


def test_sample_keeps_every_judged_document_and_fills_with_seeded_distractors(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path)
    first = sample_beir(folder, "train", 25, seed=3, out=tmp_path / "a")
    kept = ids(first / "corpus.jsonl")
    assert len(kept) == 25
    assert {f"d{number}" for number in range(20)} <= set(kept)
    assert kept == sorted(kept, key=lambda name: int(name[1:]))  # the corpus's own order
    again = sample_beir(folder, "train", 25, seed=3, out=tmp_path / "b")
    other = sample_beir(folder, "train", 25, seed=4, out=tmp_path / "c")
    assert ids(again / "corpus.jsonl") == kept
    assert ids(other / "corpus.jsonl") != kept
    assert len(ids(first / "queries.jsonl")) == 10
    assert "q0\td39\t0" not in (first / "qrels" / "train.tsv").read_text()


def test_sample_of_some_questions_keeps_only_their_judgements(tmp_path: Path) -> None:
    folder = beir_folder(tmp_path)
    out = sample_beir(folder, "train", 8, seed=0, out=tmp_path / "s", questions=3)
    asked = ids(out / "queries.jsonl")
    assert len(asked) == 3
    judged = [line.split("\t") for line in (out / "qrels" / "train.tsv").read_text().splitlines()[1:]]
    assert {query for query, _, _ in judged} == set(asked)
    assert {document for _, document, _ in judged} <= set(ids(out / "corpus.jsonl"))
    assert len(ids(out / "corpus.jsonl")) == 8


def test_sample_smaller_than_the_judged_documents_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="smaller than the 20 documents"):
        sample_beir(beir_folder(tmp_path), "train", 10, seed=0, out=tmp_path / "s")


def test_eval_command_reports_a_sample_too_small_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = beir_folder(tmp_path)
    code = main([str(folder), "--split", "train", "--corpus-sample", "5", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "smaller than the 20 documents" in capsys.readouterr().err
    # A question set that is not a BEIR folder cannot be sampled.
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"question": "q", "answers": ["a"]}\n')
    assert main([str(questions), "--corpus-sample", "5", "--out", str(tmp_path / "out")]) == 2


def test_eval_command_split_chooses_the_qrels_and_names_the_ones_a_folder_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-256")
    monkeypatch.setenv("RAG_EVAL_CACHE", str(tmp_path / "cache"))
    folder = beir_folder(tmp_path)
    out = tmp_path / "out"
    assert main([str(folder), "--mode", "lexical", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "qrels/test.tsv is missing; pass --split with one of: train" in error
    assert main([str(folder), "--split", "dev", "--mode", "lexical", "--out", str(out)]) == 2
    assert "qrels/dev.tsv is missing; pass --split with one of: train" in capsys.readouterr().err
    assert main([str(folder), "--split", "train", "--mode", "lexical", "--out", str(out)]) == 0
    assert len(json.loads((out / "beir" / "results.json").read_text())["rows"]) == 10
    sample = [str(folder), "--split", "train", "--corpus-sample", "25", "--limit", "4", "--out", str(out)]
    assert main([*sample, "--mode", "lexical"]) == 0
    assert (
        len(json.loads((out / "beir-sample-25-seed-0-questions-4" / "results.json").read_text())["rows"]) == 4
    )
    assert main([str(folder), "--split", "dev", "--corpus-sample", "25", "--out", str(out)]) == 2
    assert "pass --split with one of: train" in capsys.readouterr().err
