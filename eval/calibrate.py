"""Choose the extractive refusal threshold on xquad, honestly.

Index articles 00-11 only; questions on articles 12-23 must be refused. The threshold is
tuned on questions from articles 00-05 and 12-17 and reported on 06-11 and 18-23.

English (the default) calibrates Settings.refusal_threshold, on scores the embedding model
drives. `--languages de,es,ru,zh,ar,hi` pools those translations, whose sentences the bundled
English model does not cover and extractive.py scores by lexical evidence: the threshold
chosen there, subtracted from Settings.refusal_threshold, is what to add to LEXICAL_SCORE_SHIFT.
Run: .venv/bin/python -m eval.calibrate [--languages en] [--index-root DIR] [--backend onnx|torch]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import rag
from eval.multilingual import article, dataset_folder


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


def best_scores(language: str, folder: Path, backend: str | None = None) -> list[dict]:
    """Every question of the language asked of an index of articles 00-11, never refusing."""
    base = rag.open(folder, rag.Settings(refusal_threshold=-10.0, embedding_backend=backend))
    dataset = dataset_folder(language)
    items = []
    for line in (dataset / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if article(doc["_id"]) < 12:
            items.append(rag.TextItem(doc["_id"], f"{doc['title']}\n\n{doc['text']}", doc["title"]))
    base.add_texts(items)
    rows = []
    for line in (dataset / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        question = json.loads(line)
        answer = base.ask(question["question"])
        quotes = " ".join(c.quote.text for c in answer.citations)
        rows.append(
            {
                "language": language,
                "article": article(question["sources"][0]),
                "answerable": article(question["sources"][0]) < 12,
                "best": answer.citations[0].score if answer.citations else -10.0,
                "contains": bool(rag.answer_contains(quotes, question["answers"])),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--languages", default="en", help="comma-separated: en, or de,es,ru,zh,ar,hi pooled")
    parser.add_argument("--index-root", type=Path, default=None, help="one index folder per language here")
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None, help="embedding backend")
    args = parser.parse_args()
    root = args.index_root or Path(tempfile.mkdtemp())
    languages = args.languages.split(",")
    rows = [
        row
        for language in languages
        for row in best_scores(language, root / f"xquad-{language}-00-11", args.backend)
    ]
    tune = [row for row in rows if row["article"] % 12 < 6]
    test = [row for row in rows if row["article"] % 12 >= 6]
    candidates = [round(0.10 + 0.01 * step, 2) for step in range(70)]

    def balanced(threshold: float) -> float:
        metrics = refusal_metrics(tune, threshold)
        wrongly_refused = sum(1 for r in tune if r["answerable"] and r["best"] < threshold)
        answerable = sum(1 for r in tune if r["answerable"])
        return metrics["refusal_recall"] + (1 - wrongly_refused / answerable)

    chosen = max(candidates, key=balanced)
    print(
        json.dumps(
            {
                "languages": languages,
                "chosen_threshold": chosen,
                "add_to_lexical_score_shift": round(rag.Settings().refusal_threshold - chosen, 2),
                "tune": refusal_metrics(tune, chosen),
                "held_out": refusal_metrics(test, chosen),
                "held_out_questions": len(test),
                "held_out_by_language": {
                    language: refusal_metrics([r for r in test if r["language"] == language], chosen)
                    for language in languages
                },
                "curve_held_out": [refusal_metrics(test, t) for t in candidates[::5]],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
