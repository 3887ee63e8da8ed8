"""`rag ask` and `rag search`: questions against an index, answers and passages on the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from rag.answer.question import AskOptions
from rag.cli.options import (
    add_llm_arguments,
    follow_with_progress,
    llm_settings,
    local_user,
    open_from,
    print_json,
)
from rag.display import printable
from rag.settings import RETRIEVAL_MODES
from rag.types import Answer, Passage


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ask and search to the `rag` parser."""
    for name, help_text in (("ask", "answer a question with quotes"), ("search", "show the best passages")):
        reader = subparsers.add_parser(name, parents=[common], help=help_text)
        reader.add_argument("text", help="the question" if name == "ask" else "the query")
        reader.add_argument("-k", type=int, default=None, help="number of passages")
        reader.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="retrieval mode")
        reader.add_argument("--json", action="store_true")
        reader.set_defaults(run=run_ask if name == "ask" else run_search)
    add_llm_arguments(subparsers.choices["ask"])


def run_ask(args: argparse.Namespace) -> int:
    """rag ask QUESTION"""
    options = AskOptions(k=args.k, retrieval_mode=args.mode, channel="cli", asked_by=local_user())
    with open_from(args, answer_mode=args.answer_mode, **llm_settings(args)) as base:
        follow_with_progress(base, args.mode, quiet=args.json)
        if args.json:
            print_json(base.ask(args.text, options).to_dict())
            return 0
        answer = print_streamed(base.ask_stream(args.text, options))
    print(format_answer(answer, with_text=False))
    return 0


def print_streamed(answers: Iterator[Answer]) -> Answer:
    """Print the answer text as it grows; if the final text differs (verification), print it again."""
    printed = ""
    answer: Answer | None = None
    for answer in answers:
        if answer.text.startswith(printed):
            sys.stdout.write(printable(answer.text[len(printed) :], keep="\n\t"))
            sys.stdout.flush()
            printed = answer.text
    assert answer is not None, "ask_stream yields at least one answer"
    print()
    if printed != answer.text:
        print(f"Verified answer: {printable(answer.text, keep=chr(10))}")
    return answer


def format_answer(answer: Answer, with_text: bool = True) -> str:
    """The answer, its citations, unsupported sentences, and (for a refusal) the closest passages."""
    lines = [printable(answer.text, keep="\n\t")] if with_text else []
    lines.extend(f"(unsupported: {item.text})" for item in answer.sentences if not item.is_supported)
    if answer.notice:
        lines.append(answer.notice)
    if answer.query != answer.question.strip():
        lines.append(f"(searched for: {answer.query})")
    for citation in answer.citations:
        place = f", {citation.place}" if citation.place else ""
        # An LLM answer paraphrases, so show the verbatim quote each [n] rests on.
        quote = f": “{printable(citation.quote.text, keep=chr(10))}”" if answer.mode == "llm" else ""
        lines.append(
            f"[{citation.number}] {printable(citation.source)}{place}, characters {citation.start}-{citation.end}{quote}"
        )
    flagged = [str(passage.rank) for passage in answer.passages if passage.contains_instructions]
    if flagged:
        lines.append(
            f"(passages {', '.join(flagged)} contain instructions addressed to an AI; never used as evidence)"
        )
    if not answer.answered and answer.passages:
        lines.append("Closest passages:")
        lines.extend(format_passage(passage, width=200) for passage in answer.passages[:3])
    return "\n".join(lines)


def format_passage(passage: Passage, width: int = 400) -> str:
    """One passage: rank, source, scores and (shortened) text."""
    place = f", {passage.place}" if passage.place else ""
    text = printable(" ".join(passage.text.split()))
    if len(text) > width:
        text = text[: width - 1] + "…"
    flag = "\n     (contains instructions addressed to an AI: shown as data, never used as evidence)"
    return (
        f"  {passage.rank}. {printable(passage.source)}{place} (fused {passage.fused_score:.4f})\n     {text}"
        + (flag if passage.contains_instructions else "")
    )


def run_search(args: argparse.Namespace) -> int:
    """rag search QUERY"""
    with open_from(args) as base:
        follow_with_progress(base, args.mode, quiet=args.json)
        passages = base.search(args.text, k=args.k, mode=args.mode)
    if args.json:
        print_json([passage.to_dict() for passage in passages])
    elif not passages:
        print("No passages found.")
    else:
        print("\n".join(format_passage(passage) for passage in passages))
    return 0
