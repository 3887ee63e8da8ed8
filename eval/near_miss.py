"""python -m eval.near_miss: refusal when the topic is indexed but the asked fact is not.

The honest refusal split asks about articles that are not indexed at all: a question there
shares little with any passage. The harder case, and the one people meet, is a question
about a document that is indexed but never states what is asked ("When did the Soviet Union
withdraw its troops?" over an article that tells of the invasion). This builds such a set
from a question set whose questions name their source passage and their answer strings
(xquad-dev by default):

- in each passage, one question (chosen with a fixed seed) loses every sentence that holds
  its answer; the question is kept only when no answer string remains anywhere in the
  corpus, and it must then be refused;
- every other question of the set whose answer is still in its passage stays answerable.

Then it evaluates the set like `python -m eval` and writes the report. A removed fact may
still be stated in other words elsewhere (rare in xquad-dev, not checked): refusal recall
here is a floor, not an exact figure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rag
from eval.presets import DATASETS
from rag.evaluation import split_sentences

DATASET = DATASETS / "xquad-dev"


@dataclass(frozen=True)
class NearMissSet:
    """Where the built set was written, and how many questions of each kind it holds."""

    questions: Path
    corpus: Path
    unanswerable: int
    answerable: int


def build(dataset: Path, out: Path, seed: int = 7) -> NearMissSet:
    """Write corpus.jsonl and questions.jsonl of the near-miss set built from a dataset folder."""
    passages = {row["_id"]: row for row in _read(dataset / "corpus.jsonl")}
    questions = list(_read(dataset / "questions.jsonl"))
    asked: dict[str, list[dict]] = defaultdict(list)
    for question in questions:
        if len(question.get("sources", ())) == 1 and question.get("answers"):
            asked[question["sources"][0]].append(question)
    chooser = random.Random(seed)
    texts = {passage_id: row["text"] for passage_id, row in passages.items()}
    removed: dict[str, str] = {}
    for passage_id in sorted(asked):
        candidates = sorted(asked[passage_id], key=lambda question: question["id"])
        chooser.shuffle(candidates)
        for question in candidates:
            kept = _without_answer(texts[passage_id], question["answers"])
            if kept is not None and not _still_stated(question["answers"], kept, texts, passage_id):
                texts[passage_id] = kept
                removed[passage_id] = question["id"]
                break
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus.jsonl"
    _write(corpus, [dict(row, text=texts[passage_id]) for passage_id, row in passages.items()])
    kept_questions, unanswerable = [], 0
    for question in questions:
        sources = question.get("sources", ())
        if len(sources) == 1 and removed.get(sources[0]) == question["id"]:
            kept_questions.append(dict(question, answers=[], sources=[], answerable=False))
            unanswerable += 1
        elif len(sources) == 1 and any(answer in texts[sources[0]] for answer in question.get("answers", ())):
            kept_questions.append(question)
    path = out / "questions.jsonl"
    _write(path, kept_questions)
    return NearMissSet(path, corpus, unanswerable, len(kept_questions) - unanswerable)


def _without_answer(text: str, answers: Sequence[str]) -> str | None:
    """The passage without the sentences that hold an answer; None when no sentence holds one."""
    spans = split_sentences(text)
    holding = [span for span in spans if any(answer in text[span.start : span.end] for answer in answers)]
    if not holding:
        return None
    return " ".join(text[span.start : span.end].strip() for span in spans if span not in holding)


def _still_stated(answers: Sequence[str], kept: str, texts: dict[str, str], passage_id: str) -> bool:
    """Whether an answer string is still written in the passage that lost it or in any other."""
    elsewhere = (text for other, text in texts.items() if other != passage_id)
    return any(answer.casefold() in text.casefold() for text in (kept, *elsewhere) for answer in answers)


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _write(path: Path, rows: Sequence[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the near-miss set, evaluate it, print the summary and write the report."""
    parser = argparse.ArgumentParser(prog="python -m eval.near_miss", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset", type=Path, default=DATASET, help="folder with corpus.jsonl and questions.jsonl"
    )
    parser.add_argument("--seed", type=int, default=7, help="which question of each passage loses its answer")
    parser.add_argument("--out", type=Path, default=Path(".verbatim/eval/near-miss"))
    parser.add_argument("--model", default=None, help="embedding model (default: the settings' model)")
    args = parser.parse_args(argv)
    for name in ("corpus.jsonl", "questions.jsonl"):
        if not (args.dataset / name).is_file():
            print(f"error: {args.dataset / name} does not exist", file=sys.stderr)
            return 2
    built = build(args.dataset, args.out / "set", args.seed)
    print(
        f"near-miss set: {built.unanswerable} must be refused, {built.answerable} answerable", file=sys.stderr
    )
    settings = rag.Settings.from_env()
    if args.model:
        settings = settings.replace(embedding_model=args.model)
    config = rag.EvalConfig(built.questions, corpus=built.corpus, settings=settings)
    results = rag.evaluate(config, progress=True)
    print(rag.format_eval_summary(results))
    rag.write_eval_results(results, args.out / "report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
