"""The near-miss refusal set: a question whose answer sentence is taken out of its passage."""

from __future__ import annotations

import json
from pathlib import Path

from eval.near_miss import build


def _dataset(folder: Path) -> Path:
    folder.mkdir()
    passages = [
        {
            "_id": "p1",
            "title": "Harbour",
            "text": "The ferry leaves at seven. It was built in 1921. Gulls nest on it.",
        },
        {"_id": "p2", "title": "Mill", "text": "The mill grinds oats. It has stood since 1921."},
    ]
    questions = [
        {"id": "q1", "question": "When does the ferry leave?", "answers": ["seven"], "sources": ["p1"]},
        {"id": "q2", "question": "When was the ferry built?", "answers": ["1921"], "sources": ["p1"]},
        {"id": "q3", "question": "What does the mill grind?", "answers": ["oats"], "sources": ["p2"]},
    ]
    for name, rows in (("corpus.jsonl", passages), ("questions.jsonl", questions)):
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_question_per_passage_loses_its_answer_sentence(tmp_path: Path) -> None:
    built = build(_dataset(tmp_path / "data"), tmp_path / "out", seed=3)
    corpus = {row["_id"]: row["text"] for row in _rows(built.corpus)}
    questions = {row["id"]: row for row in _rows(built.questions)}
    refused = [row for row in questions.values() if row.get("answerable") is False]
    # "1921" is written in both passages, so q2 can never be made unanswerable; q1 and q3 can.
    assert sorted(row["id"] for row in refused) == ["q1", "q3"]
    assert "seven" not in corpus["p1"] and "oats" not in corpus["p2"]
    assert corpus["p1"] == "It was built in 1921. Gulls nest on it."
    assert all(row["answers"] == [] and row["sources"] == [] for row in refused)
    # q2's answer is still in its passage: it stays answerable, as it was.
    assert questions["q2"]["answers"] == ["1921"] and "answerable" not in questions["q2"]
    assert (built.unanswerable, built.answerable) == (2, 1)


def test_the_same_seed_builds_the_same_set(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "data")
    first = build(data, tmp_path / "a", seed=11)
    second = build(data, tmp_path / "b", seed=11)
    assert first.questions.read_text() == second.questions.read_text()
    assert first.corpus.read_text() == second.corpus.read_text()
