"""The `rag` command: ingest, ask, search, remove, stats, ui (and eval)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.knowledge_base import KnowledgeBase, open_index
from rag.models import Answer, IngestReport, Passage
from rag.progress import ProgressLine
from rag.settings import ANSWER_MODES, RETRIEVAL_MODES, Settings

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}
# Modules that add subcommands (e.g. eval) append a function(subparsers, common_parent) here.
EXTENSIONS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


def command(name: str) -> Callable[[Command], Command]:
    """Register a subcommand handler."""

    def register(handler: Command) -> Command:
        COMMANDS[name] = handler
        return handler

    return register


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
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", parents=[common], help="add or update documents")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders (recursive)")
    ingest.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    ingest.add_argument("--chunk-size", type=int, default=None)
    ingest.add_argument("--chunk-overlap", type=int, default=None)
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    for name, help_text in (("ask", "answer a question with quotes"), ("search", "show the best passages")):
        reader = sub.add_parser(name, parents=[common], help=help_text)
        reader.add_argument("text", help="the question" if name == "ask" else "the query")
        reader.add_argument("-k", type=int, default=None, help="number of passages")
        reader.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="retrieval mode")
        reader.add_argument("--json", action="store_true")
    add_llm_arguments(sub.choices["ask"])

    remove = sub.add_parser("remove", parents=[common], help="remove a document")
    remove.add_argument("source", help="source path, file name or unique path suffix")

    stats = sub.add_parser("stats", parents=[common], help="index statistics")
    stats.add_argument("--documents", action="store_true", help="also list the documents")
    stats.add_argument("--json", action="store_true")

    for extension in EXTENSIONS:
        extension(sub, common)

    ui = sub.add_parser("ui", parents=[common], help="start the chat UI")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--docs", type=Path, action="append", help="folder to ingest at start (repeatable)")
    return parser


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags choosing the answer mode and the language model (each also has a RAG_* env var)."""
    parser.add_argument("--answer-mode", choices=ANSWER_MODES, default=None, help="default: extractive")
    parser.add_argument(
        "--llm-base-url", default=None, help="OpenAI-compatible URL, e.g. http://localhost:11434/v1"
    )
    parser.add_argument("--llm-model", default=None, help="model name at that URL")
    parser.add_argument("--llm-api-key", default=None, help="API key for that URL (or RAG_LLM_API_KEY)")
    parser.add_argument(
        "--llm-local", default=None, metavar="PATH", help="GGUF file or model folder to run in-process"
    )
    parser.add_argument("--drop-unsupported", action="store_true", help="leave out unsupported sentences")


def open_from(args: argparse.Namespace, **settings: Any) -> KnowledgeBase:
    """Open the index an invocation names, with its settings applied."""
    return open_index(args.index, Settings.from_env(embedding_model=args.model, **settings))


def print_json(value: Any) -> None:
    """Print a JSON document to stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


@command("ingest")
def run_ingest(args: argparse.Namespace) -> int:
    """rag ingest PATH..."""
    with open_from(args, chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap) as base:
        report = base.ingest(args.paths, prune=args.prune, progress=None if args.json else ProgressLine())
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_report(report))
    return 1 if report.files and report.count("failed") == len(report.files) else 0


def format_report(report: IngestReport) -> str:
    """Summary line plus one line per failed or skipped file."""
    summary = report.to_dict()["summary"]
    rate = report.chunks_embedded / report.seconds if report.seconds else 0.0
    lines = [
        ", ".join(f"{count} {status}" for status, count in summary.items())
        + f" — {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s ({rate:.0f} chunks/s)"
    ]
    for result in report.files:
        if result.status in ("failed", "skipped"):
            lines.append(f"  {result.status}: {result.source}: {result.reason}")
        for warning in result.warnings:
            lines.append(f"  warning: {result.source}: {warning}")
    return "\n".join(lines)


@command("ask")
def run_ask(args: argparse.Namespace) -> int:
    """rag ask QUESTION"""
    llm_settings = {
        "answer_mode": args.answer_mode,
        "llm_base_url": args.llm_base_url,
        "llm_model": args.llm_model,
        "llm_api_key": args.llm_api_key,
        "llm_local_path": args.llm_local,
        "drop_unsupported": args.drop_unsupported or None,
    }
    with open_from(args, **llm_settings) as base:
        if args.json:
            print_json(base.ask(args.text, k=args.k, mode=args.mode).to_dict())
            return 0
        answer = print_streamed(base.ask_stream(args.text, k=args.k, mode=args.mode))
    print(format_answer(answer, with_text=False))
    return 0


def print_streamed(answers: Iterator[Answer]) -> Answer:
    """Print the answer text as it grows; if the final text differs (verification), print it again."""
    printed = ""
    answer: Answer | None = None
    for answer in answers:
        if answer.text.startswith(printed):
            sys.stdout.write(answer.text[len(printed) :])
            sys.stdout.flush()
            printed = answer.text
    assert answer is not None, "ask_stream yields at least one answer"
    print()
    if printed != answer.text:
        print(f"Verified answer: {answer.text}")
    return answer


def format_answer(answer: Answer, with_text: bool = True) -> str:
    """The answer, its citations, unsupported sentences, and (for a refusal) the closest passages."""
    lines = [answer.text] if with_text else []
    lines.extend(f"(unsupported: {item.text})" for item in answer.sentences if not item.is_supported)
    if answer.notice:
        lines.append(answer.notice)
    if answer.query != answer.question.strip():
        lines.append(f"(searched for: {answer.query})")
    for citation in answer.citations:
        page = f", page {citation.page}" if citation.page else ""
        # An LLM answer paraphrases, so show the verbatim quote each [n] rests on.
        quote = f": “{citation.quote.text}”" if answer.mode == "llm" else ""
        lines.append(
            f"[{citation.number}] {citation.source}{page}, characters {citation.start}-{citation.end}{quote}"
        )
    if not answer.answered and answer.passages:
        lines.append("Closest passages:")
        lines.extend(format_passage(passage, width=200) for passage in answer.passages[:3])
    return "\n".join(lines)


def format_passage(passage: Passage, width: int = 400) -> str:
    """One passage: rank, source, scores and (shortened) text."""
    page = f" p.{passage.page}" if passage.page else ""
    text = " ".join(passage.text.split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"  {passage.rank}. {passage.source}{page} (fused {passage.fused_score:.4f})\n     {text}"


@command("search")
def run_search(args: argparse.Namespace) -> int:
    """rag search QUERY"""
    with open_from(args) as base:
        passages = base.search(args.text, k=args.k, mode=args.mode)
    if args.json:
        print_json([passage.to_dict() for passage in passages])
    elif not passages:
        print("No passages found.")
    else:
        print("\n".join(format_passage(passage) for passage in passages))
    return 0


@command("remove")
def run_remove(args: argparse.Namespace) -> int:
    """rag remove SOURCE"""
    with open_from(args) as base:
        source = base.resolve_source(args.source)
        chunks = base.remove(source)
    print(f"removed {source} ({chunks} chunks)")
    return 0


@command("stats")
def run_stats(args: argparse.Namespace) -> int:
    """rag stats"""
    with open_from(args) as base:
        stats = base.stats()
        documents = [info.to_dict() for info in base.documents()] if args.documents else []
    if args.json:
        print_json(stats | ({"documents_list": documents} if args.documents else {}))
        return 0
    for key, value in stats.items():
        print(f"{key:>16}: {value}")
    for info in documents:
        print(f"  {info['source']}  ({info['chunks']} chunks, {info['size_bytes']} bytes)")
    return 0


@command("ui")
def run_ui(args: argparse.Namespace) -> int:
    """rag ui: becomes `python -m ui` (exec, so signals reach it; rag never imports the UI)."""
    argv = [sys.executable, "-m", "ui", "--host", args.host, "--port", str(args.port)]
    if args.index is not None:
        argv += ["--index", str(args.index)]
    if args.model:
        argv += ["--model", args.model]
    for folder in args.docs or ():
        argv += ["--docs", str(folder)]
    sys.stdout.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached: execv replaces this process


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# At the end: rag.eval_cli uses this module's `command` decorator, so importing it earlier would be circular.
from rag.eval_cli import add_eval_command  # noqa: E402

EXTENSIONS.append(add_eval_command)

if __name__ == "__main__":
    sys.exit(main())
