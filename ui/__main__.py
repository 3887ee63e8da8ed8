"""python -m ui: open (and optionally fill) an index, then serve the chat UI."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import rag
import rag.sources
from rag.ingest import DEFAULT_MAX_UPLOAD_MB
from ui import IGNORED_GRADIO_VARIABLES


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, ingest --docs folders, start the server."""
    parser = argparse.ArgumentParser(prog="python -m ui", description="The Verbatim chat UI.")
    parser.add_argument(
        "--index", default=None, help="index folder or postgresql:// URL (default: $RAG_INDEX or ./index)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, local only)"
    )
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--model", default=None, help="embedding model (default: the index's own)")
    parser.add_argument(
        "--docs", type=Path, action="append", default=[], help="folder to index at start-up (repeatable)"
    )
    parser.add_argument("--max-upload-mb", type=int, default=DEFAULT_MAX_UPLOAD_MB)
    parser.add_argument(
        "--sync", action="store_true", help="keep the index in step with its sources (docs/sync.md)"
    )
    args = parser.parse_args(argv)
    if IGNORED_GRADIO_VARIABLES:
        ignored = ", ".join(IGNORED_GRADIO_VARIABLES)
        print(f"Ignoring {ignored}: Verbatim sets Gradio's security settings itself", file=sys.stderr)
    stop = threading.Event()
    from ui import server  # gradio loads slowly: only after the arguments are known to be good

    try:
        base = server.open_base(args.index or rag.default_index_dir(), args.model, args.docs)
        if args.sync:
            keep_in_step(base, stop)
        server.launch(base, args.host, args.port, args.docs, args.max_upload_mb)
    except rag.RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        stop.set()
    return 0


def keep_in_step(base: rag.KnowledgeBase, stop: threading.Event) -> None:
    """Watch the index's declared sources in a thread with its own writer, printing what changed."""

    def report(reports: list[rag.sources.PassReport]) -> None:
        for result in reports:
            if result.added or result.updated or result.renamed or result.removed or result.error:
                counts = f"+{result.added} ~{result.updated} >{result.renamed} -{result.removed}"
                print(f"sync {result.location}: {counts} {result.error}", file=sys.stderr, flush=True)

    rag.sources.check_syncable(base)  # a PostgreSQL index: a one-line error before serving
    writer = rag.open(base.folder, embedder=base.embedder)
    if rag.sources.start_watching(writer, report, stop) is None:
        print("note: the index declares no sources (docs/sync.md); --sync does nothing", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
