"""Compare the extractive and llm answer modes on a question set (containment, token F1, support).

python eval/llm_compare.py --corpus ../shared/datasets/xquad-dev/corpus.jsonl \
    --questions ../shared/datasets/xquad-dev/questions.jsonl --sample 100 --seed 0

A stop-gap until `rag eval --answer-mode llm` exists; it uses rag's public API only.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import string
import sys
import tempfile
import time
from pathlib import Path

import rag

MARKER = re.compile(r"\[\d+\]")


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = MARKER.sub(" ", text).lower()
    text = "".join(" " if char in string.punctuation + "“”‘’" else char for char in text)
    return " ".join(word for word in text.split() if word not in ("a", "an", "the"))


def token_f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 between two texts after normalisation."""
    predicted, expected = normalize(prediction).split(), normalize(gold).split()
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def score(answer: rag.Answer, golds: list[str]) -> dict[str, float]:
    """Containment and best token F1 of one answer (a refusal scores 0)."""
    text = answer.text if answer.answered else ""
    contains = any(normalize(gold) and normalize(gold) in normalize(text) for gold in golds)
    return {"contains": float(contains), "f1": max(token_f1(text, gold) for gold in golds)}


def run(base: rag.KnowledgeBase, questions: list[dict], mode: str) -> dict[str, float]:
    """Ask every question in one answer mode and average the metrics."""
    totals: collections.Counter[str] = collections.Counter()
    sentences = unsupported = 0
    started = time.perf_counter()
    for number, item in enumerate(questions, start=1):
        answer = base.ask(item["question"], answer_mode=mode)
        if answer.mode != mode:
            sys.exit(f"asked for {mode}, got {answer.mode}: {answer.notice}")
        totals.update(score(answer, item["answers"]))
        totals["answered"] += answer.answered
        sentences += len(answer.sentences)
        unsupported += sum(not sentence.is_supported for sentence in answer.sentences)
        print(f"{mode} {number}/{len(questions)} {answer.text[:100]!r}", file=sys.stderr)
    count = len(questions)
    return {
        "questions": count,
        "answer_contains": round(totals["contains"] / count, 4),
        "token_f1": round(totals["f1"] / count, 4),
        "answered": round(totals["answered"] / count, 4),
        "sentences": sentences,
        "unsupported_sentence_share": round(unsupported / sentences, 4) if sentences else 0.0,
        "seconds_per_question": round((time.perf_counter() - started) / count, 2),
    }


def main() -> int:
    """Index the corpus in a temporary folder, sample questions, report both modes as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="BEIR corpus.jsonl")
    parser.add_argument("--questions", type=Path, required=True, help="questions.jsonl")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm-max-tokens", type=int, default=128)
    parser.add_argument("--modes", default="extractive,llm")
    parser.add_argument(
        "-k", "--top-k", type=int, default=5, help="passages retrieved (and given to the LLM)"
    )
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    questions = random.Random(args.seed).sample(questions, min(args.sample, len(questions)))
    documents = [json.loads(line) for line in args.corpus.read_text().splitlines() if line.strip()]
    model_path = rag.find_bundled_llm()
    settings = rag.Settings(
        llm_local_path=str(model_path or ""), llm_max_tokens=args.llm_max_tokens, top_k=args.top_k
    )
    report: dict[str, object] = {"sample": len(questions), "seed": args.seed, "top_k": args.top_k}
    report["llm_model"] = str(model_path)
    with tempfile.TemporaryDirectory() as folder, rag.open(folder, settings=settings) as base:
        base.add_texts([rag.TextItem(doc["_id"], doc["text"], doc.get("title", "")) for doc in documents])
        for mode in args.modes.split(","):
            report[mode] = run(base, questions, mode)
            if mode == "llm" and model_path is not None:
                model = rag.load_local_model(str(model_path))
                report["llm_tokens"] = model.generated_tokens
                report["llm_tokens_per_second"] = round(model.generated_tokens / model.generation_seconds, 2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
