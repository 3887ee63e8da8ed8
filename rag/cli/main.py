"""The `rag` command: one parser, each command group adds its subcommands and handlers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rag.cli import audit, check, copy, documents, evaluate, feedback, query, report, serve, sync, ui
from rag.cli.options import common_arguments, run_reporting_errors
from rag.display import printable

# The command groups, in the order their subcommands are listed by `rag --help`.
GROUPS = (documents, query, check, copy, evaluate, feedback, report, sync, ui, serve, audit)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one `error:` line, like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {printable(message)}; see `{self.prog} --help`", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(prog="rag", description="Question answering over your documents, with verbatim quotes.")
    common = common_arguments()
    subparsers = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(list(argv if argv is not None else sys.argv[1:]))
    return run_reporting_errors(lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
