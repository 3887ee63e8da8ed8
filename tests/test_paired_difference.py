"""eval.paired_difference: two evaluation runs compared over the same questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.paired_difference import main, paired


def rows(contains: list[float]) -> list[dict]:
    return [
        {"id": str(number), "answerable": True, "answered": True, "answer_contains": value}
        for number, value in enumerate(contains)
    ]


def test_a_run_worse_on_every_changed_question_has_an_interval_below_zero() -> None:
    before = rows([1.0] * 40)
    after = rows([0.0] * 10 + [1.0] * 30)
    found = paired(before, after, "answer_contains")
    assert found is not None
    assert (found.questions, found.worse, found.better) == (40, 10, 0)
    assert found.mean == pytest.approx(-0.25) and found.high < 0 < 1 + found.low


def test_questions_only_one_run_holds_and_metrics_that_do_not_apply_are_left_out() -> None:
    before = [*rows([1.0, 0.0, 1.0]), {"id": "x", "answerable": False, "answered": True}]
    after = rows([1.0, 1.0])  # question "2" and "x" were not asked again
    found = paired(before, after, "answer_contains")
    assert found is not None and (found.questions, found.better, found.worse) == (2, 1, 0)
    assert paired(before, after, "refused") is None


def test_the_command_reads_two_results_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, values in (("before", [1.0, 1.0]), ("after", [1.0, 0.0])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps({"rows": rows(values)}))
    assert main([str(tmp_path / "before"), str(tmp_path / "after"), "answer_contains"]) == 0
    assert "answer_contains: 2 questions, 1.000 -> 0.500" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(tmp_path / "before"), str(tmp_path / "missing")])
