"""What several command groups share: the LLM flags, opening the named index, JSON output."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rag.display import BuildProgressBar, printable
from rag.errors import RagError
from rag.knowledge_base import KnowledgeBase, open_index
from rag.settings import ANSWER_MODES, EMBEDDING_BACKENDS, Settings
from rag.storage.engine import is_database_url


def index_location(value: str) -> Path | str:
    """An --index value: a postgresql:// URL as given, anything else a folder path."""
    return value if is_database_url(value) else Path(value)


def common_arguments() -> argparse.ArgumentParser:
    """The flags every command takes: --index, --model, --backend, --reranker, --no-question-log."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index",
        type=index_location,
        default=None,
        help="index folder, or postgresql://user@host:port/db (default: $RAG_INDEX or ./index)",
    )
    common.add_argument(
        "--model",
        default=None,
        help="embedding model name or folder, e.g. multilingual-e5-small (new indexes only)",
    )
    common.add_argument(
        "--backend",
        choices=EMBEDDING_BACKENDS,
        default=None,
        help="embedding backend (or RAG_EMBEDDING_BACKEND); default: onnx where the model exports, else torch",
    )
    common.add_argument(
        "--reranker",
        default=None,
        metavar="NAME_OR_PATH",
        help="a sentence-transformers CrossEncoder that reorders the best 20 passages (or RAG_RERANKER); off by default",
    )
    common.add_argument(
        "--no-question-log",
        action="store_true",
        help="keep the questions asked out of the index's question log (or RAG_LOG_QUESTIONS=0)",
    )
    return common


def run_reporting_errors(run: Callable[[], int]) -> int:
    """Run a command; an error the user can fix prints one `error:` line and returns 2."""
    try:
        code = int(run())
        sys.stdout.flush()
        return code
    except RagError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `rag stats | head`: the reader has gone, as with any Unix tool that is not an error worth
        # a traceback. Point stdout at /dev/null so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


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


def llm_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields the LLM flags set (None = not given, so the environment decides)."""
    return {
        "llm_base_url": args.llm_base_url,
        "llm_model": args.llm_model,
        "llm_api_key": args.llm_api_key,
        "llm_local_path": args.llm_local,
        "drop_unsupported": args.drop_unsupported or None,
    }


def open_from(args: argparse.Namespace, **settings: Any) -> KnowledgeBase:
    """Open the index an invocation names, with its settings applied."""
    return open_index(args.index, Settings.from_env(**embedding_settings(args), **settings))


def follow_with_progress(base: KnowledgeBase, mode: str | None, quiet: bool = False) -> None:
    """Build a PostgreSQL index's FAISS follower before the first search in `mode` (None: the
    settings'), with a bar on stderr when it reads every vector (a machine without a saved copy:
    45.5 s at a million chunks); a folder, a lexical search (which reads no vector), or a follower
    taken from this machine's saved copy draws nothing."""
    if base.url is None or (mode or base.settings.retrieval_mode) == "lexical":
        return
    with nullcontext() if quiet else BuildProgressBar() as bar:
        base.follow_database(bar)


def embedding_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields of the flags every command shares (None: not given)."""
    return {
        "embedding_model": args.model,
        "embedding_backend": args.backend,
        "reranker": getattr(args, "reranker", None),
        "log_questions": False if getattr(args, "no_question_log", False) else None,
    }


def local_user() -> str:
    """The user name this command runs as ("" where the system has none to give)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def print_json(value: Any) -> None:
    """Print a JSON document to stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False))
