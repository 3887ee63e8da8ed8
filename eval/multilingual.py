"""python -m eval.multilingual: xquad in English and six translations, one language at a time.

Per language, two runs of rag.evaluate, exactly as these commands would make them:
  rag eval LANG/questions.jsonl --corpus LANG/corpus.jsonl --limit 200 --seed 0
  rag eval ... --corpus-include '0?_*' --corpus-include '1[01]_*' --unanswerable-if-missing
(English: ../shared/datasets/xquad-dev, all 632 questions for the first run.) Vectors are cached
across the runs, so the second index of a language embeds nothing again.
Refusal precision and recall are also given on the held-out articles only (06-11 answerable,
18-23 unanswerable): the refusal threshold was calibrated on the others (eval/calibrate.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import rag
from eval.presets import DATASETS, FIRST_HALF
from rag.evaluation import refusal_scores

LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "hi")
COLUMNS = ("hit@1", "hit@5", "answer_contains", "quote_validity")


class CachedEmbedder:
    """An embedder that remembers every text's vector: the same sentences come back across questions."""

    def __init__(self, inner: rag.Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.languages = getattr(inner, "languages", None)
        self.backend = getattr(inner, "backend", "custom")
        self._vectors: dict[str, np.ndarray] = {}
        self._questions: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        # A model with a query side (multilingual-e5) embeds questions apart from passages.
        if text not in self._questions:
            own = getattr(self.inner, "embed_query", None)
            self._questions[text] = own(text) if own else self.inner.embed([text])[0]
        return self._questions[text]


def dataset_folder(language: str) -> Path:
    """Where the questions and corpus of one language are."""
    if language == "en":
        return DATASETS / "xquad-dev"
    return DATASETS / "xquad-multilingual-dev" / language


def article(source: str) -> int:
    return int(source.split("_")[0])


def held_out_refusal(rows: Sequence[rag.QuestionResult]) -> dict[str, float]:
    """Refusal precision and recall over questions of articles 06-11 and 18-23 only."""
    kept = [row for row in rows if row.sources and article(row.sources[0]) % 12 >= 6]
    refused = [not row.answered for row in kept]
    return refusal_scores(refused, [bool(row.answerable) for row in kept]) | {"questions": len(kept)}


def run_language(
    language: str, embedder: rag.Embedder, limit: int, seed: int, out: Path
) -> dict[str, object]:
    """The full-corpus run and the honest refusal run of one language."""
    folder = dataset_folder(language)
    questions, corpus = folder / "questions.jsonl", folder / "corpus.jsonl"
    full = rag.evaluate(
        rag.EvalConfig(questions, corpus=corpus, limit=None if language == "en" else limit, seed=seed),
        embedder=embedder,
    )
    honest = rag.evaluate(
        rag.EvalConfig(
            questions,
            corpus=corpus,
            limit=limit,
            seed=seed,
            corpus_include=FIRST_HALF,
            missing_sources_unanswerable=True,
        ),
        embedder=embedder,
    )
    rag.write_eval_results(full, out / language)
    rag.write_eval_results(honest, out / f"{language}-honest")
    summary: dict[str, object] = {name: full.aggregates.get(name) for name in COLUMNS}
    summary["questions"] = len(full.rows)
    for name in ("refusal_precision", "refusal_recall", "answered_rate"):
        summary[f"honest_{name}"] = honest.aggregates.get(name)
    summary["honest_quote_validity"] = honest.aggregates.get("quote_validity")
    summary["held_out"] = held_out_refusal(honest.rows)
    return summary


def markdown_table(results: dict[str, dict[str, object]]) -> str:
    """One row per language, the columns of docs/evaluation.md."""
    lines = [
        "| language | questions | hit@1 | hit@5 | answer inside the quotes | quote validity "
        "| refusal P / R (200, honest split) | refusal P / R (held-out articles) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for language, row in results.items():
        held = row["held_out"]
        assert isinstance(held, dict)
        lines.append(
            f"| {language} | {row['questions']} | {_f(row['hit@1'])} | {_f(row['hit@5'])} "
            f"| {_f(row['answer_contains'])} | {_f(row['quote_validity'])} "
            f"| {_f(row['honest_refusal_precision'])} / {_f(row['honest_refusal_recall'])} "
            f"| {_f(held.get('refusal_precision'))} / {_f(held.get('refusal_recall'))} |"
        )
    return "\n".join(lines)


def _f(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "–"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the languages given (all seven by default) and print the table."""
    parser = argparse.ArgumentParser(prog="python -m eval.multilingual", description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated codes")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="embedding model (default: the bundled one)")
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None, help="embedding backend")
    parser.add_argument("--out", type=Path, default=Path(".verbatim/eval/multilingual"))
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(rag.make_embedder(args.model or rag.DEFAULT_MODEL, backend=args.backend))
    results = {}
    for language in args.languages.split(","):
        print(f"== {language}", file=sys.stderr)
        results[language] = run_language(language, embedder, args.limit, args.seed, args.out)
        print(json.dumps(results[language]), file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(results, indent=2))
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
