"""The built-in default in the terminal: index a folder (the project's docs) and answer."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.cli import format_answer, format_report
from rag.errors import RagError
from rag.knowledge_base import open_index
from rag.progress import ProgressLine

EXAMPLE_QUESTIONS = (
    "Which file types can Verbatim read?",
    "What happens when no sentence scores above the refusal threshold?",
    "What is the capital of Australia?",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Ingest --docs into --index, answer the example questions, then read questions from stdin."""
    parser = argparse.ArgumentParser(prog="python -m rag.demo")
    parser.add_argument("--docs", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument("--index", type=Path, default=Path(".verbatim/default-index"))
    args = parser.parse_args(argv)
    try:
        with open_index(args.index) as base:
            print(f"Indexing {args.docs} into {args.index} ...", file=sys.stderr)
            print(format_report(base.ingest([args.docs], prune=True, progress=ProgressLine())))
            for question in EXAMPLE_QUESTIONS:
                print(f"\n> {question}\n{format_answer(base.ask(question))}")
            if sys.stdin.isatty():
                _chat(base)
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _chat(base: object) -> None:
    from rag.knowledge_base import KnowledgeBase

    assert isinstance(base, KnowledgeBase)
    history: list[str] = []
    print("\nAsk a question (empty line to quit).")
    while question := input("> ").strip():
        answer = base.ask(question, history=history)
        history.append(question)
        print(format_answer(answer))


if __name__ == "__main__":
    sys.exit(main())
