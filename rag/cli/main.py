"""The `rag` command: one parser, each command group adds its subcommands and handlers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.cli import documents, evaluate, query, ui
from rag.errors import RagError

# The command groups, in the order their subcommands are listed by `rag --help`.
GROUPS = (documents, query, evaluate, ui)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="rag", description="Question answering over your documents, with verbatim quotes."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index", type=Path, default=None, help="index folder (default: $RAG_INDEX or ./index)"
    )
    common.add_argument("--model", default=None, help="embedding model name or folder (new indexes only)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
