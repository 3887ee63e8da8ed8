"""python -m eval.feedback_loop: does feedback become a faithful regression set? Measured on xquad-dev.

Scripted users ask xquad-dev questions of an index of its 120 paragraphs. Where the answer holds
the gold answer they give a thumb up; where it does not, a thumb down and they paste the sentence
of the gold paragraph that holds it (Verbatim finds its offsets). Then:
1. `rag eval --from-feedback` builds the set, and it is run with the same settings: every
   question marked down should fail again and every one marked up should pass (reproduced);
2. it is run again after a change of settings, and `--compare` says which questions were fixed
   and which regressed; a fix is checked against the original short gold answer.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rag
from eval.presets import DATASETS
from rag.evaluation import (
    answer_contains,
    feedback_question_set,
    question_changes,
    read_beir_corpus,
    write_question_set,
)

FOLDER = DATASETS / "xquad-dev"
GOOD = ("correct", "refused (correct)")


def gold_sentence(text: str, answer: str) -> str:
    """The sentence of a paragraph that holds the answer, as a user would copy it."""
    at = text.find(answer)
    if at < 0:
        return ""
    start = text.rfind(". ", 0, at)
    end = text.find(". ", at + len(answer))
    return text[start + 2 if start >= 0 else 0 : end + 1 if end >= 0 else len(text)].strip()


def said(question: str) -> str:
    """A question as stored: outer and repeated white space do not count."""
    return " ".join(question.split())


def give_feedback(base: rag.KnowledgeBase, questions: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Ask each question and rate the answer as a scripted user; question -> 'up' | 'down'."""
    given = {}
    for row in questions:
        answer = base.ask(row["question"])
        if answer_contains(answer.text, row["answers"]):
            base.add_feedback(rag.feedback_on(answer.to_dict(), "helpful", channel="script"))
            given[said(row["question"])] = "up"
            continue
        sentence = gold_sentence(base.document(row["sources"][0]).text, row["answers"][0])
        base.add_feedback(
            rag.feedback_on(answer.to_dict(), "not_helpful", channel="script"), passage=sentence
        )
        given[said(row["question"])] = "down"
    return given


def _value(text: str) -> Any:
    """A setting's value from the command line: a number or true/false as JSON, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def run_set(path: Path, index: Path, settings: rag.Settings) -> dict[str, Any]:
    """`rag eval SET --index INDEX` with these settings, as results.json holds it."""
    return rag.evaluate(rag.EvalConfig(dataset=path, index=index, settings=settings)).to_dict()


def main(argv: Sequence[str] | None = None) -> int:
    """Build the index, give the feedback, build and run the set twice; print what was measured."""
    parser = argparse.ArgumentParser(
        prog="python -m eval.feedback_loop", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--limit", type=int, default=200, help="questions asked (sampled with --seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(".verbatim/feedback-loop"))
    parser.add_argument(
        "--change",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="the change of settings the set is run again after (default: retrieval_mode=lexical)",
    )
    args = parser.parse_args(argv)
    rows = [
        json.loads(line) for line in (FOLDER / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    questions = random.Random(args.seed).sample(rows, min(args.limit, len(rows)))
    before = rag.Settings.from_env()
    changes = dict(change.split("=", 1) for change in args.change or ["retrieval_mode=lexical"])
    after = before.replace(**{name: _value(text) for name, text in changes.items()})
    with tempfile.TemporaryDirectory(prefix="verbatim-feedback-loop-") as work:
        index = Path(work) / "index"
        started = time.perf_counter()
        with rag.open(index, before) as base:
            base.add_texts(read_beir_corpus(FOLDER / "corpus.jsonl"))
            indexed = time.perf_counter() - started
            given = give_feedback(base, questions)
            question_set = args.out / "from-feedback.jsonl"
            write_question_set(feedback_question_set(base), question_set)
        first = run_set(question_set, index, before)
        second = run_set(question_set, index, after)
    marked = {said(row["question"]): row for row in first["rows"]}
    reproduced = sum((marked[q]["outcome"] in GOOD) == (rating == "up") for q, rating in given.items())
    fixed, regressed = question_changes(first, second)
    gold = {said(row["question"]): row["answers"] for row in questions}
    after_rows = {row["id"]: row for row in second["rows"]}
    fixed_really = int(
        sum(
            answer_contains(after_rows[item.split(":")[0]]["answer"], gold[said(item.split(": ", 1)[1])])
            for item in fixed
        )
    )
    report = {
        "questions": len(questions),
        "marked_up": sum(rating == "up" for rating in given.values()),
        "marked_down": sum(rating == "down" for rating in given.values()),
        "set_rows": len(first["rows"]),
        "reproduced": reproduced,
        "change": changes,
        "fixed": len(fixed),
        "fixed_holding_the_original_gold_answer": fixed_really,
        "regressed": len(regressed),
        "aggregates_before": first["aggregates"],
        "aggregates_after": second["aggregates"],
        "index_seconds": round(indexed, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first.json").write_text(json.dumps(first, indent=1))
    (args.out / "second.json").write_text(json.dumps(second, indent=1))
    print(json.dumps(report, indent=2))
    print(
        f"reproduced {reproduced}/{len(given)} ratings; after the change {len(fixed)} fixed"
        f" ({fixed_really} of them now hold the original gold answer), {len(regressed)} regressed",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
