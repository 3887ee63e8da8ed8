"""`rag check`: is the index whole; with --repair, rebuild what is derived from the stored truth."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rag.cli.options import open_from, print_json
from rag.display import printable
from rag.errors import RagError
from rag.settings import default_index_dir
from rag.storage.engine import is_database_url
from rag.storage.integrity import IndexCheck, check_index


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add check to the `rag` parser."""
    check = subparsers.add_parser(
        "check",
        parents=[common],
        help="check the index for damage",
        description="Check the SQLite file (or the PostgreSQL tables), the full-text index, every chunk "
        "against its document, the vectors and their checksums. Exit 0 when healthy, else one line per problem and exit 1.",
    )
    check.add_argument("--repair", action="store_true", help="rebuild the full-text index and vector files")
    check.add_argument("--json", action="store_true")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    """rag check [--repair]"""
    if is_database_url(args.index or os.environ.get("RAG_INDEX")):
        with open_from(args) as base:
            result = base.check(repair=args.repair)
        print_json(result.to_dict()) if args.json else print(format_check(result))
        return 0 if result.is_healthy else 1
    folder = args.index or default_index_dir()
    result = check_index(folder)
    if args.repair and result.problems:
        try:
            with open_from(args) as base:
                result = base.check(repair=True)
        except RagError:
            result = check_index(folder, repair=True)  # the damage stops the index from opening
    if args.json:
        print_json(result.to_dict())
    else:
        print(format_check(result))
    return 0 if result.is_healthy else 1


def format_check(result: IndexCheck) -> str:
    """'ok', or one line per problem, then what was repaired and what could not be."""
    if not result.problems:
        return f"{printable(result.folder)}: ok"
    lines = [f"problem: {printable(problem)}" for problem in result.problems]
    lines += [f"repaired: {printable(item)}" for item in result.repaired]
    lines += [f"could not repair: {printable(item)}" for item in result.unrepaired]
    return "\n".join(lines)
