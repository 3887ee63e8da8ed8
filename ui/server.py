"""Start the web server with safe defaults: local only, no share link, no analytics, bounded uploads."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

import rag
from rag.display import BuildProgressBar, IngestProgressBar
from rag.ingest import DEFAULT_MAX_UPLOAD_MB, UPLOADS_FOLDER
from ui import app as app_module
from ui import assets, documents, security


def open_base(index: Path | str, model: str | None, docs: Sequence[Path]) -> rag.KnowledgeBase:
    """Open the index and bring the --docs folders into it (incremental: unchanged files are skipped)."""
    base = rag.open(index, rag.Settings.from_env(embedding_model=model))
    for folder in docs:
        if not folder.exists():
            raise rag.NotFoundError(f"--docs {folder} does not exist; give a folder of documents")
    if not base.exists:
        # The UI adds documents, so it may start a new index; say so in case the folder is a typo.
        print(f"Creating a new, empty index at {base.location}", file=sys.stderr, flush=True)
        base.create()
    if docs:
        print(f"Indexing {', '.join(map(str, docs))} into {base.location} …", file=sys.stderr, flush=True)
        try:
            report = base.ingest(list(docs), prune=True, progress=IngestProgressBar())
        except rag.IndexLockedError as error:
            print(f"Skipping the start-up ingest: {error}", file=sys.stderr, flush=True)
        else:
            summary = ", ".join(
                f"{report.count(status)} {status}"
                for status in ("added", "updated", "unchanged", "removed", "failed", "skipped")
                if report.count(status)
            )
            print(
                f"Indexed: {summary or 'nothing'}; {report.chunks_embedded} chunks embedded "
                f"in {report.seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            for result in report.failed:
                print(f"  failed: {result.source}: {result.reason}", file=sys.stderr, flush=True)
    try:  # a PostgreSQL index keeps no uploads folder: uploads to it are refused
        recovered = (
            documents.recover_uploads(base, base.folder / UPLOADS_FOLDER) if base.url is None else None
        )
    except rag.IndexLockedError:
        recovered = None
    if recovered is not None:
        print(
            f"Indexed {recovered.count('added')} uploaded files an interrupted upload had left behind",
            file=sys.stderr,
            flush=True,
        )
    # Load the embedding model, FAISS and the SQLite pages now, so the first question does not wait:
    # for a PostgreSQL index, its FAISS follower too (a bar while a build reads every vector).
    if base.url is not None:
        with BuildProgressBar() as building:
            base.follow_database(building)
    base.embedder.embed(["warm up"])
    base.search("warm up")
    return base


def _holds_the_user_guide(base: rag.KnowledgeBase) -> bool:
    """Whether the index holds the built-in docs, which the example questions are about."""
    return any(info.source.endswith(("/docs/guide.md", "/docs/ui.md")) for info in base.documents())


def page_options(private_folders: Sequence[Path], max_upload_mb: int) -> dict[str, Any]:
    """How the page is served, standalone or mounted in `rag serve`: safe defaults and the theme."""
    return {
        "max_file_size": f"{max_upload_mb}mb",
        "blocked_paths": security.blocked_paths(private_folders[0], private_folders[1:]),
        "allowed_paths": [],
        "enable_monitoring": False,
        "show_error": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "theme": gr.themes.Soft(primary_hue="indigo"),
        "css": assets.CSS,
        "js": assets.ON_LOAD_JS,
    }


def launch(
    base: rag.KnowledgeBase,
    host: str = "127.0.0.1",
    port: int = 7860,
    docs: Sequence[Path] = (),
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
) -> None:
    """Serve the app until interrupted; prints the local URL once it is up."""
    config = app_module.AppConfig(
        uploads=base.folder / UPLOADS_FOLDER,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        examples=app_module.EXAMPLES if _holds_the_user_guide(base) else (),
    )
    page = app_module.build_app(base, config)
    page.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=security.auth_from_env(),
        auth_message="Log in with RAG_UI_USER / RAG_UI_PASSWORD.",
        quiet=True,
        prevent_thread_lock=True,
        inbrowser=False,
        app_kwargs={"middleware": [Middleware(security.LoginClient)]},
        **page_options([base.folder, *docs], max_upload_mb),
    )
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Verbatim is running at http://{shown_host}:{page.server_port}/", flush=True)
    try:
        page.block_thread()
    finally:
        page.close()
        base.close()
