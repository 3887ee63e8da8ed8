"""A smaller BEIR folder for a paired comparison: judged questions, every abstract they judge, distractors.

The full SciFact corpus (5,183 abstracts) takes hours to embed with a slow model on shared
cores. A sample keeps every document judged relevant to the chosen questions and adds random
others (a fixed seed) up to the size asked for, so each model is scored on the same folder.
Its numbers are higher than on the whole corpus (fewer distractors) and are only comparable
with each other.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path


class SampleError(ValueError):
    """The sample cannot be drawn as asked (too small for the judged documents, unknown split)."""


def judged(folder: Path, split: str) -> dict[str, dict[str, str]]:
    """query id -> {document id: grade} of the positive judgements in qrels/<split>.tsv."""
    path = folder / "qrels" / f"{split}.tsv"
    if not path.is_file():
        splits = ", ".join(sorted(tsv.stem for tsv in (folder / "qrels").glob("*.tsv")))
        raise SampleError(
            f"{path} is missing: a sample needs a BEIR folder with qrels/{split}.tsv;"
            f" pass --split with one of: {splits or 'none found'}"
        )
    relevance: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as stream:
        for row in csv.reader(stream, delimiter="\t"):
            if len(row) >= 3 and row[0] != "query-id" and float(row[2]) > 0:
                relevance.setdefault(row[0], {})[row[1]] = row[2]
    return relevance


def sample_beir(
    folder: Path, split: str, size: int, seed: int, out: Path, questions: int | None = None
) -> Path:
    """Write a BEIR folder of `size` documents to `out`: every judged one, then seeded distractors.

    `questions` keeps only that many judged questions (shuffled with the same seed) and the
    documents they judge; None keeps them all.
    """
    relevance = judged(folder, split)
    query_ids = sorted(relevance)
    if questions is not None:
        random.Random(seed).shuffle(query_ids)
        query_ids = sorted(query_ids[:questions])
    relevant = {document for query in query_ids for document in relevance[query]}
    rows = [
        json.loads(line)
        for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    others = sorted(str(row["_id"]) for row in rows if str(row["_id"]) not in relevant)
    if size < len(relevant):
        raise SampleError(
            f"--corpus-sample {size} is smaller than the {len(relevant)} documents the questions judge;"
            f" give at least {len(relevant)} or fewer questions"
        )
    kept = relevant | set(random.Random(seed).sample(others, min(size - len(relevant), len(others))))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        corpus.writelines(
            json.dumps(row, ensure_ascii=False) + "\n" for row in rows if str(row["_id"]) in kept
        )
    wanted = set(query_ids)
    with (out / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
            if line and str(json.loads(line)["_id"]) in wanted:
                queries.write(line + "\n")
    with (out / "qrels" / f"{split}.tsv").open("w", encoding="utf-8", newline="") as qrels:
        writer = csv.writer(qrels, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for query in query_ids:
            writer.writerows([query, document, grade] for document, grade in sorted(relevance[query].items()))
    return out
