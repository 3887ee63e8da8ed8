"""`rag ui`: hands over to `python -m ui` (rag never imports the UI)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ui to the `rag` parser."""
    ui = subparsers.add_parser("ui", parents=[common], help="start the chat UI")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--docs", type=Path, action="append", help="folder to ingest at start (repeatable)")
    ui.add_argument(
        "--sync", action="store_true", help="keep the index in step with its sources (docs/sync.md)"
    )
    ui.set_defaults(run=run_ui)


def run_ui(args: argparse.Namespace) -> int:
    """rag ui: becomes `python -m ui` (exec, so signals reach it)."""
    argv = [sys.executable, "-m", "ui", "--host", args.host, "--port", str(args.port)]
    if args.index is not None:
        argv += ["--index", str(args.index)]
    if args.model:
        argv += ["--model", args.model]
    for folder in args.docs or ():
        argv += ["--docs", str(folder)]
    if args.sync:
        argv.append("--sync")
    if args.no_question_log:
        os.environ["RAG_LOG_QUESTIONS"] = "0"
    if args.backend:
        os.environ["RAG_EMBEDDING_BACKEND"] = args.backend  # the UI reads its settings from RAG_*
    sys.stdout.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached: execv replaces this process
