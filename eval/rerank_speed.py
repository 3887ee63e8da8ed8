"""python -m eval.rerank_speed: what the reranker slot costs per question, with and without it.

No cross-encoder ships offline, so this builds one from the bundled MiniLM weights (the real
CrossEncoder class with a fresh head): its scores say nothing about quality, its cost is a real
cross-encoder's of that size. The same questions are searched without and with it, alternately,
in one process, on one index of the seed articles.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence

import rag
from eval.presets import PRESETS
from rag.embedding import CrossEncoderScorer, bundled_model_path
from rag.evaluation import open_corpus_index


def main(argv: Sequence[str] | None = None) -> int:
    """Print search p50 (ms) without and with the reranker, and their ratio, as JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval.rerank_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=20, help="questions of the seeds set to time")
    parser.add_argument("--depth", type=int, default=20, help="passages the cross-encoder scores")
    args = parser.parse_args(argv)
    from sentence_transformers import CrossEncoder  # a benchmark dependency, as in eval/speed.py

    preset = PRESETS["seeds"]
    questions = [
        json.loads(line)["question"] for line in preset.dataset.read_text().splitlines() if line.strip()
    ]
    questions = questions[: args.questions]
    base = open_corpus_index(preset.corpus, rag.Settings(rerank_depth=args.depth))
    with tempfile.TemporaryDirectory() as folder:
        CrossEncoder(str(bundled_model_path()), num_labels=1, device="cpu").save(folder)
        scorer = CrossEncoderScorer(folder)
        scorer.score("warm", ["up"])
        timings: dict[str, list[float]] = {"fused": [], "reranked": []}
        for question in [questions[0], *questions]:  # the first one warms caches, then counts
            for name, reranker in (("fused", None), ("reranked", scorer)):
                base.reranker = reranker
                started = time.perf_counter()
                base.search(question)
                timings[name].append((time.perf_counter() - started) * 1000)
    fused = statistics.median(timings["fused"][1:])
    reranked = statistics.median(timings["reranked"][1:])
    result = {
        "questions": len(questions),
        "depth": args.depth,
        "search_p50_ms": round(fused, 1),
        "search_with_reranker_p50_ms": round(reranked, 1),
        "ratio": round(reranked / fused, 1),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
