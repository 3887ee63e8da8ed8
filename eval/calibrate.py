"""Choose the extractive refusal threshold on xquad-dev, honestly.

Index articles 00-11 only; questions on articles 12-23 must be refused. The threshold is
tuned on questions from articles 00-05 and 12-17 and reported on 06-11 and 18-23.
Run: .venv/bin/python -m eval.calibrate [--index DIR] [--backend onnx|torch]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import rag

XQUAD = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "xquad-dev"


def article(source: str) -> int:
    return int(source.split("_")[0])


def refusal_metrics(rows: list[dict], threshold: float) -> dict[str, float]:
    refused = [row["best"] < threshold for row in rows]
    scores = rag.refusal_scores(refused, [row["answerable"] for row in rows])
    answerable = [row for row in rows if row["answerable"]]
    contains = sum(row["contains"] for row in answerable if row["best"] >= threshold)
    return {
        "threshold": threshold,
        "refusal_precision": scores.get("refusal_precision", 1.0),
        "refusal_recall": scores.get("refusal_recall", 1.0),
        "answerable_answered_and_contains": contains / max(1, len(answerable)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None, help="embedding backend")
    args = parser.parse_args()
    folder = args.index or Path(tempfile.mkdtemp()) / "xquad-00-11"
    base = rag.open(folder, rag.Settings(refusal_threshold=-1.0, embedding_backend=args.backend))
    items = []
    for line in (XQUAD / "corpus.jsonl").read_text().splitlines():
        doc = json.loads(line)
        if article(doc["_id"]) < 12:
            items.append(rag.TextItem(doc["_id"], doc["text"], doc["title"]))
    base.add_texts(items)
    rows = []
    for line in (XQUAD / "questions.jsonl").read_text().splitlines():
        question = json.loads(line)
        answer = base.ask(question["question"])
        best = answer.citations[0].score if answer.citations else -1.0
        quotes = " ".join(c.quote.text for c in answer.citations)
        rows.append(
            {
                "article": article(question["sources"][0]),
                "answerable": article(question["sources"][0]) < 12,
                "best": best,
                "contains": bool(rag.answer_contains(quotes, question["answers"])),
            }
        )
    tune = [row for row in rows if row["article"] % 12 < 6]
    test = [row for row in rows if row["article"] % 12 >= 6]
    candidates = [round(0.20 + 0.01 * step, 2) for step in range(50)]

    def balanced(threshold: float) -> float:
        metrics = refusal_metrics(tune, threshold)
        wrongly_refused = sum(1 for r in tune if r["answerable"] and r["best"] < threshold)
        answerable = sum(1 for r in tune if r["answerable"])
        return metrics["refusal_recall"] + (1 - wrongly_refused / answerable)

    chosen = max(candidates, key=balanced)
    print(
        json.dumps(
            {
                "chosen_threshold": chosen,
                "tune": refusal_metrics(tune, chosen),
                "held_out": refusal_metrics(test, chosen),
                "held_out_questions": len(test),
                "curve_held_out": [refusal_metrics(test, t) for t in candidates[::5]],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
