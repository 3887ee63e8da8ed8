"""The `rag eval` subcommand: run a question set or BEIR folder, or compare two runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.cli.options import add_llm_arguments, embedding_settings, llm_settings, open_from, print_json
from rag.settings import RETRIEVAL_MODES, Settings, default_index_dir


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add eval to the `rag` parser."""
    parser = subparsers.add_parser(
        "eval",
        parents=[common],
        help="evaluate a question set or BEIR folder",
        description="Evaluate retrieval, answers, citations, refusals and latency. "
        "DATASET is a question-set .jsonl or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).",
    )
    parser.add_argument("dataset", nargs="?", type=Path, help="questions .jsonl or BEIR folder")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="index this folder or BEIR corpus.jsonl first (cached)"
    )
    parser.add_argument(
        "--corpus-include",
        action="append",
        default=[],
        metavar="GLOB",
        help="index only corpus documents whose id (or file name) matches; repeatable",
    )
    parser.add_argument(
        "--unanswerable-if-missing",
        action="store_true",
        help="questions whose sources are not in the index must be refused (honest refusal split)",
    )
    parser.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    parser.add_argument("-k", type=int, default=None, help="passages per answer (Settings.top_k)")
    parser.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="retrieval mode")
    add_llm_arguments(parser)  # --answer-mode and the language model, as for `rag ask`
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions")
    parser.add_argument("--seed", type=int, default=None, help="shuffle the questions with this seed first")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write results.json, report.md and plots here (with --from-feedback: the question set .jsonl)",
    )
    parser.add_argument(
        "--from-feedback",
        action="store_true",
        help="write a question set made of the index's feedback (to --out, else stdout); run it with `rag eval SET`",
    )
    parser.add_argument(
        "--since", default="", metavar="DATE", help="with --from-feedback: feedback from this date on"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="where --corpus indexes are cached")
    parser.add_argument("--json", action="store_true", help="print the full results as JSON")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two results.json files"
    )
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="with --compare: exit 1 when a metric got worse"
    )
    parser.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    """rag eval DATASET | rag eval --compare A B"""
    from rag.evaluation.datasets import EvalDataError, is_beir_folder
    from rag.evaluation.report import format_eval_summary, write_eval_results
    from rag.evaluation.runner import EvalConfig, evaluate

    if args.compare:
        return run_compare(args.compare[0], args.compare[1], args.fail_on_regression)
    if args.from_feedback:
        return run_from_feedback(args)
    if args.dataset is None:
        raise EvalDataError("give a question set or BEIR folder, or --compare A/results.json B/results.json")
    index = args.index
    if index is None and args.corpus is None and not is_beir_folder(args.dataset):
        index = default_index_dir()
    config = EvalConfig(
        dataset=args.dataset,
        index=index,
        corpus=args.corpus,
        k=args.k,
        mode=args.mode,
        answer_mode=args.answer_mode,
        limit=args.limit,
        seed=args.seed,
        split=args.split,
        corpus_include=tuple(args.corpus_include),
        missing_sources_unanswerable=args.unanswerable_if_missing,
        settings=Settings.from_env(**embedding_settings(args), **llm_settings(args)),
        cache_dir=args.cache_dir,
    )
    results = evaluate(config, progress=True)
    if args.json:
        print_json(results.to_dict())
    else:
        print(format_eval_summary(results))
    if args.out is not None:
        written = write_eval_results(results, args.out)
        print(f"wrote {', '.join(str(path) for path in written)}", file=sys.stderr)
    return 0


def run_from_feedback(args: argparse.Namespace) -> int:
    """rag eval --from-feedback [--since DATE] [--out SET.jsonl]"""
    from rag.evaluation.feedback import regression_rows, write_question_set

    with open_from(args) as base:
        rows = regression_rows(base, args.since)
    if args.out is None:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    write_question_set(rows, args.out)
    to_review = sum(1 for row in rows if row.get("review"))
    print(
        f"wrote {len(rows)} questions to {args.out} ({to_review} to review: asked, not scored);"
        f" run them with `rag eval {args.out}`",
        file=sys.stderr,
    )
    return 0


def run_compare(before_path: Path, after_path: Path, fail_on_regression: bool) -> int:
    """Print the metric differences of two results.json files; regressions are flagged."""
    from rag.evaluation.datasets import EvalDataError
    from rag.evaluation.report import compare_eval_results

    runs = []
    for path in (before_path, after_path):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise EvalDataError(f"cannot read {path} as results.json: {error}") from None
        if "aggregates" not in runs[-1]:
            raise EvalDataError(f"{path} has no 'aggregates': is it a results.json from `rag eval --out`?")
    table, regressions = compare_eval_results(runs[0], runs[1])
    print(f"A = {before_path}\nB = {after_path}\n\n{table}")
    if regressions:
        print(f"\n{len(regressions)} regression(s): {', '.join(regressions)}")
    else:
        print("\nno regressions")
    return 1 if regressions and fail_on_regression else 0
