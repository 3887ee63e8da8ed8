"""python -m eval PRESET|DATASET [options]: run evaluations and write reports.

Presets: seeds, docs, smoke (= seeds + docs), xquad, xquad-honest, tables, tables-own, compound, scifact, and per language
xquad-LANG and xquad-LANG-honest for de, es, ru, zh, ar, hi.
Anything else is a question-set .jsonl or BEIR folder, run like `rag eval`.
`--split SPLIT` chooses a BEIR folder's judgements, qrels/SPLIT.tsv (test, dev, train).
`--corpus-sample N` indexes N documents of a BEIR dataset instead of all (eval/corpus_sample.py):
every one judged for the questions (--limit of them, shuffled by --seed) and random others.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import rag
from eval.corpus_sample import SampleError, sample_beir
from eval.presets import PRESETS, SMOKE, Preset


def main(argv: Sequence[str] | None = None) -> int:
    """Run each named preset (or dataset) and print its summary; write reports under --out."""
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs", nargs="+", help=f"presets ({', '.join([*PRESETS, 'smoke'])}) or dataset paths"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="corpus for a dataset path")
    parser.add_argument("--index", type=Path, default=None, help="evaluate this index instead of a corpus")
    parser.add_argument("-k", type=int, default=None)
    parser.add_argument("--mode", choices=rag.RETRIEVAL_MODES, default=None)
    parser.add_argument("--answer-mode", choices=rag.ANSWER_MODES, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--split",
        default=None,
        help="BEIR folders: the qrels split, qrels/SPLIT.tsv (default: the preset's, else test)",
    )
    parser.add_argument(
        "--corpus-sample", type=int, default=None, help="BEIR: index N documents (judged + random, --seed)"
    )
    parser.add_argument("--out", type=Path, default=Path(".verbatim/eval"), help="one subfolder per run")
    parser.add_argument("--min-quote-validity", type=float, default=1.0, help="exit 1 below this")
    args = parser.parse_args(argv)
    names = [name for run in args.runs for name in (SMOKE if run == "smoke" else (run,))]
    failed = False
    for name in names:
        preset = PRESETS.get(name) or Preset(
            Path(name), args.corpus or Path(), "dataset given on the command line"
        )
        if args.split is not None:
            preset = dataclasses.replace(preset, split=args.split)
        if not preset.dataset.exists():
            print(f"skipping {name}: {preset.dataset} does not exist", file=sys.stderr)
            continue
        if args.corpus_sample is not None:
            try:
                preset = sampled(preset, Path(name).stem, args)
            except SampleError as error:
                print(f"error: {name}: {error}", file=sys.stderr)
                return 2
        print(f"== {name}: {preset.about}", file=sys.stderr)
        try:
            config = rag.EvalConfig(
                preset.dataset,
                index=args.index,
                corpus=None
                if args.index
                else (preset.corpus if name in PRESETS or args.corpus_sample else args.corpus),
                k=args.k,
                mode=args.mode,
                answer_mode=args.answer_mode,
                limit=None if args.corpus_sample is not None else args.limit,
                seed=None if args.corpus_sample is not None else args.seed,
                split=preset.split,
                corpus_include=tuple(preset.corpus_include),
                missing_sources_unanswerable=preset.missing_sources_unanswerable,
            )
            results = rag.evaluate(config, progress=True)
        except rag.RagError as error:
            print(f"error: {name}: {error}", file=sys.stderr)
            return 2
        print(rag.format_eval_summary(results) + "\n")
        folder = args.out / (preset.dataset.name if args.corpus_sample is not None else Path(name).stem)
        rag.write_eval_results(results, folder)
        print(f"report: {folder / 'report.md'}\n", file=sys.stderr)
        validity = results.aggregates.get("quote_validity", 1.0)
        if validity < args.min_quote_validity:
            print(f"FAIL: {name}: quote_validity {validity} < {args.min_quote_validity}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


def sampled(preset: Preset, name: str, args: argparse.Namespace) -> Preset:
    """The preset over a BEIR folder of --corpus-sample documents, written under --out once."""
    seed = args.seed or 0
    label = f"{name}-sample-{args.corpus_sample}-seed-{seed}" + (
        f"-questions-{args.limit}" if args.limit else ""
    )
    folder = sample_beir(
        preset.dataset, preset.split, args.corpus_sample, seed, args.out / "samples" / label, args.limit
    )
    about = f"{preset.about}; sample of {args.corpus_sample} documents (seed {seed}): compare only with the same sample"
    return Preset(folder, folder / "corpus.jsonl", about, split=preset.split)


if __name__ == "__main__":
    sys.exit(main())
