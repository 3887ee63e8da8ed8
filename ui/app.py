"""The Gradio page: the Chat, Documents, Quality (feedback) and Settings tabs in one gr.Blocks."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

import rag
from rag.evaluation import dashboard_html, quality_dashboard
from rag.ingest import DEFAULT_MAX_UPLOAD_MB, UPLOADS_FOLDER
from ui import chat as chat_tab
from ui import collections, documents, render

EXAMPLES = (
    "Which file types can Verbatim read?",
    "What happens when a question is not covered by the documents?",
)
ASK_CONCURRENCY = 2
QUEUE_MAX_SIZE = 32


@dataclass(frozen=True)
class AppConfig:
    """What the page needs besides the knowledge base."""

    uploads: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    examples: Sequence[str] = EXAMPLES
    # `rag serve --ui`: the served collections; with several, the chat gets a picker.
    collections: rag.Collections | None = None


def build_app(base: rag.KnowledgeBase, config: AppConfig) -> gr.Blocks:
    """The whole page; launch it with ui.server.launch."""
    # delete_cache: uploaded temp copies (the kept copy is in the index) and exports go after a day.
    with gr.Blocks(
        title="Verbatim", analytics_enabled=False, fill_width=True, delete_cache=(3600, 86400)
    ) as app:
        turns = gr.State([])
        gr.HTML(
            "<div id='app-header'><h1>Verbatim</h1><p>Answers made of verbatim quotes from your "
            "documents, each checked character for character.</p></div>",
            js_on_load=None,
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = chat_tab.build_chat_tab(base, config.examples, _names(config))
            with gr.Tab("Documents", id="documents") as documents_tab:
                docs = _documents_tab(base, config)
            with gr.Tab("Quality", id="quality") as quality_tab:
                quality = gr.HTML(_quality(base, config), elem_id="quality")
            with gr.Tab("Settings", id="settings") as settings_tab:
                settings = _settings_tab(base)
        store_in = config.collections.answered_in if config.collections is not None else None
        chat_tab.wire_chat(base, chat, settings, turns, _selector(config), store_in)
        refresh = [docs["table"], docs["choices"], settings["stats"]]
        chosen = [docs["collection"]]

        def listing(name: str | None) -> tuple[str, Any, str]:
            return _listing(_collection_base(base, config, name))

        quality_tab.select(lambda: _quality(base, config), None, quality, queue=False)
        documents_tab.select(listing, chosen, refresh, queue=False)
        settings_tab.select(listing, chosen, refresh, queue=False)
        docs["collection"].change(listing, chosen, refresh, queue=False)
        app.load(listing, chosen, refresh, queue=False)
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    return app


def _quality(base: rag.KnowledgeBase, config: AppConfig) -> str:
    """The Quality tab: the dashboard of every collection shown (questions, feedback, evaluation runs)."""
    served = config.collections
    bases = [served.base(name) for name in served.names] if served is not None else [base]
    runs = [Path(part) for part in os.environ.get("RAG_EVAL_RUNS", "").split(os.pathsep) if part]
    return dashboard_html(quality_dashboard(bases, runs))


def _documents_tab(base: rag.KnowledgeBase, config: AppConfig) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    limit_mb = config.max_upload_bytes // (1024 * 1024)
    gr.Markdown(
        f"Upload {', '.join(sorted(rag.SUPPORTED_SUFFIXES))} files (up to {limit_mb} MB each). "
        "Questions keep working while files are indexed."
    )
    names = _names(config)
    parts["collection"] = gr.Dropdown(
        names, value=names[0] if names else None, label="Collection", visible=len(names) > 1
    )
    # No file_types: Gradio would refuse the whole batch for one file of another type, with a
    # bare "Error"; each file is checked on its own instead, and refused with its reason.
    parts["files"] = gr.File(label="Files to add", file_count="multiple", elem_id="upload")
    parts["ingest"] = gr.Button("Add to the index", variant="primary", elem_id="ingest")
    parts["progress"] = gr.Textbox(label="Progress", interactive=False, elem_id="ingest-progress")
    parts["results"] = gr.HTML("", elem_id="ingest-results")
    gr.Markdown("### Indexed documents")
    parts["table"] = gr.HTML(render.documents_html(base.documents()), elem_id="documents")
    with gr.Row():
        parts["choices"] = gr.Dropdown(label="Document", choices=[], scale=4, elem_id="remove-choice")
        parts["remove"] = gr.Button("Remove", variant="stop", scale=1, min_width=90, elem_id="remove")
    parts["remove_status"] = gr.HTML("", elem_id="remove-status")
    refresh = [parts["table"], parts["choices"]]

    def ingest(files: list[str] | None, name: str | None) -> Iterator[tuple[Any, ...]]:
        target = _collection_base(base, config, name)
        uploads = target.folder / UPLOADS_FOLDER if config.collections else config.uploads
        for update in documents.ingest_uploads(target, files or [], uploads, config.max_upload_bytes):
            if update.is_done:
                table, choices, _ = _listing(target)
                yield update.progress, update.results_html, table, choices, None
            else:
                yield update.progress, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    parts["ingest"].click(
        ingest,
        [parts["files"], parts["collection"]],
        [parts["progress"], parts["results"], *refresh, parts["files"]],
        concurrency_id="write",
        concurrency_limit=1,
        show_progress="minimal",
    )

    def remove(source: str | None, name: str | None) -> tuple[Any, ...]:
        target = _collection_base(base, config, name)
        message = documents.remove_document(target, source or "")
        table, choices, _ = _listing(target)
        return f"<p class='hint'>{render.escape(message)}</p>", table, choices

    parts["remove"].click(
        remove,
        [parts["choices"], parts["collection"]],
        [parts["remove_status"], *refresh],
        concurrency_id="write",
        concurrency_limit=1,
    )
    return parts


def _settings_tab(base: rag.KnowledgeBase) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    parts["k"] = gr.Slider(1, 20, value=base.settings.top_k, step=1, label="Passages to retrieve (k)")
    parts["retrieval"] = gr.Radio(
        [("Hybrid (meaning + keywords)", "hybrid"), ("Dense only (meaning)", "dense")],
        value="dense" if base.settings.retrieval_mode == "dense" else "hybrid",
        label="Retrieval",
    )
    parts["answer_mode"] = gr.Radio(
        [("Extractive quotes", "extractive"), ("Language model, verified against the quotes", "llm")],
        value=base.settings.answer_mode,
        label="Answer mode",
        info=(
            "The language model writes the answer and every sentence is checked against the passages "
            "(slower on a CPU). It uses RAG_LLM_BASE_URL, RAG_LLM_LOCAL or the bundled small model; "
            "without one it answers with quotes."
        ),
    )
    gr.Markdown("### Index")
    parts["stats"] = gr.HTML(render.stats_html(base.stats()), elem_id="stats")
    return parts


def _names(config: AppConfig) -> list[str]:
    return config.collections.names if config.collections is not None else []


def _selector(config: AppConfig) -> Any:
    """What answers from the collections picked in the chat (None: the one knowledge base)."""
    served = config.collections
    return None if served is None else lambda names: collections.selection(served, names)


def _collection_base(base: rag.KnowledgeBase, config: AppConfig, name: str | None) -> rag.KnowledgeBase:
    """The knowledge base the Documents tab shows: the chosen collection's, else the one base."""
    if config.collections is None or name not in config.collections.names:
        return base
    return config.collections.base(name)


def _listing(base: rag.KnowledgeBase) -> tuple[str, Any, str]:
    table = render.documents_html(base.documents())
    choices = gr.Dropdown(choices=documents.document_choices(base), value=None)
    return table, choices, render.stats_html(base.stats())
