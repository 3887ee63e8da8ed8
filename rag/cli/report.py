"""`rag report`: the quality dashboard of an index as one static HTML page (or its numbers as JSON)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rag.cli.options import open_from, print_json
from rag.errors import RagError


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add report to the `rag` parser."""
    parser = subparsers.add_parser(
        "report",
        parents=[common],
        help="write the quality dashboard as a static HTML page",
        description="Questions per day, the answered and refused share, feedback rates, the slowest "
        "questions, the most and never cited documents, and the history of `rag eval` runs, from the "
        "index's question log and feedback and the results.json files under --runs.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the HTML file to write (default: report.html)"
    )
    parser.add_argument(
        "--runs",
        type=Path,
        action="append",
        default=None,
        metavar="DIR",
        help="a folder of `rag eval --out` runs (results.json files, searched recursively); repeatable;"
        " default: $RAG_EVAL_RUNS (folders separated by the path separator)",
    )
    parser.add_argument(
        "--since", default="", metavar="DATE", help="only what was asked and said from this date on"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON instead")
    parser.set_defaults(run=run_report)


def run_folders(given: list[Path] | None) -> list[Path]:
    """The eval run folders named on the command line, else in RAG_EVAL_RUNS."""
    if given is not None:
        return given
    return [Path(part) for part in os.environ.get("RAG_EVAL_RUNS", "").split(os.pathsep) if part]


def run_report(args: argparse.Namespace) -> int:
    """rag report [--out report.html] [--runs DIR ...] [--since DATE] [--json]"""
    from rag.evaluation.dashboard import quality_dashboard
    from rag.evaluation.dashboard_page import report_page

    with open_from(args) as base:
        values = quality_dashboard([base], run_folders(args.runs), args.since)
    if args.json:
        print_json(values)
        return 0
    out = args.out or Path("report.html")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report_page(values), encoding="utf-8")
    except OSError as error:
        raise RagError(f"cannot write {out} ({error.strerror}); choose another --out") from None
    print(
        f"wrote {out}: {values['questions']} questions, {values['feedback']['feedback']} feedback,"
        f" {len(values['eval_runs'])} evaluation runs",
        file=sys.stderr,
    )
    return 0
