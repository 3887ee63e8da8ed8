"""The Gradio page: Chat, Documents and Settings tabs wired to the response functions."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

import rag
from ui import assets, documents, render, responses, security

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
    max_upload_bytes: int = security.DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    examples: Sequence[str] = EXAMPLES


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
                chat = _chat_tab(base, config, turns)
            with gr.Tab("Documents", id="documents") as documents_tab:
                docs = _documents_tab(base, config)
            with gr.Tab("Settings", id="settings") as settings_tab:
                settings = _settings_tab(base)
        _wire_chat(base, chat, settings, turns)
        refresh = [docs["table"], docs["choices"], settings["stats"]]
        documents_tab.select(lambda: _listing(base), None, refresh, queue=False)
        settings_tab.select(lambda: _listing(base), None, refresh, queue=False)
        app.load(lambda: _listing(base), None, refresh, queue=False)
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    return app


def _chat_tab(base: rag.KnowledgeBase, config: AppConfig, turns: gr.State) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            parts["chatbot"] = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="chatbot",
                height=520,
                render_markdown=False,
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=None,
                buttons=[],
                placeholder="Ask a question about your documents.",
            )
            with gr.Row():
                parts["question"] = gr.Textbox(
                    show_label=False,
                    placeholder="Ask a question and press Enter",
                    elem_id="question",
                    scale=5,
                    max_lines=4,
                    autofocus=True,
                )
                parts["send"] = gr.Button("Ask", variant="primary", scale=1, min_width=80)
            if config.examples:
                gr.Examples(list(config.examples), parts["question"], label="Try")
            with gr.Accordion("Query used for retrieval", open=False, elem_id="query-panel"):
                parts["query"] = gr.Textbox(
                    show_label=False, elem_id="query", placeholder="The search query appears here"
                )
                parts["reask"] = gr.Button("Search again with this query", size="sm", elem_id="reask")
            with gr.Accordion("Copy or export", open=False):
                parts["markdown"] = gr.Textbox(
                    label="Latest answer as Markdown", lines=6, buttons=["copy"], elem_id="answer-markdown"
                )
                with gr.Row():
                    parts["export_md"] = gr.Button("Export chat as Markdown", size="sm")
                    parts["export_json"] = gr.Button("Export chat as JSON", size="sm")
                    parts["clear"] = gr.Button("Clear chat", size="sm")
                parts["export_file"] = gr.File(label="Export", visible=False, interactive=False)
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("### Sources")
            parts["sources"] = gr.HTML(render.sources_html(None, -1, base.document), elem_id="sources")
            gr.Markdown("### Document viewer")
            parts["viewer"] = gr.HTML(render.viewer_placeholder(), elem_id="viewer")
            parts["target"] = gr.Textbox(visible="hidden", elem_id="cite-target")
            parts["open"] = gr.Button("Open citation", visible="hidden", elem_id="cite-open")
    return parts


def _documents_tab(base: rag.KnowledgeBase, config: AppConfig) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    limit_mb = config.max_upload_bytes // (1024 * 1024)
    gr.Markdown(
        f"Upload {', '.join(sorted(rag.SUPPORTED_SUFFIXES))} files (up to {limit_mb} MB each). "
        "Questions keep working while files are indexed."
    )
    parts["files"] = gr.File(
        label="Files to add",
        file_count="multiple",
        file_types=sorted(rag.SUPPORTED_SUFFIXES),
        elem_id="upload",
    )
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

    def ingest(files: list[str] | None) -> Iterator[tuple[Any, ...]]:
        for update in documents.ingest_uploads(base, files or [], config.uploads, config.max_upload_bytes):
            if update.is_done:
                table, choices, _ = _listing(base)
                yield update.progress, update.results_html, table, choices, None
            else:
                yield update.progress, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    parts["ingest"].click(
        ingest,
        parts["files"],
        [parts["progress"], parts["results"], *refresh, parts["files"]],
        concurrency_id="write",
        concurrency_limit=1,
        show_progress="minimal",
    )

    def remove(source: str | None) -> tuple[Any, ...]:
        message = documents.remove_document(base, source or "")
        table, choices, _ = _listing(base)
        return f"<p class='hint'>{render.escape(message)}</p>", table, choices

    parts["remove"].click(
        remove,
        parts["choices"],
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


def _listing(base: rag.KnowledgeBase) -> tuple[str, Any, str]:
    table = render.documents_html(base.documents())
    choices = gr.Dropdown(choices=documents.document_choices(base), value=None)
    return table, choices, render.stats_html(base.stats())


def _wire_chat(
    base: rag.KnowledgeBase,
    chat: dict[str, Any],
    settings: dict[str, Any],
    turns: gr.State,
) -> None:
    options_inputs = [settings["k"], settings["retrieval"], settings["answer_mode"]]
    outputs = [chat["chatbot"], turns, chat["sources"], chat["query"], chat["markdown"], chat["question"]]

    def run(
        question: str, history: list[responses.Turn], options: responses.AskOptions, query: str | None
    ) -> Iterator[tuple[Any, ...]]:
        # The question box is emptied with the first update, so a new question can be typed.
        box: Any = gr.skip() if query is not None else ""
        for current in responses.stream_turns(base, question, history, options, query=query):
            last = current[-1]
            if not last.is_final:
                yield responses.chat_messages(current), current, gr.skip(), gr.skip(), gr.skip(), box
                box = gr.skip()
                continue
            answer = last.answer
            yield (
                responses.chat_messages(current),
                current,
                responses.sources_for(base, current),
                answer.query if answer is not None else "",
                responses.answer_markdown(answer),
                box,
            )

    def ask(question: str, history: list[responses.Turn], k: float, retrieval: str, mode: str) -> Any:
        yield from run(question, history, responses.AskOptions(int(k), retrieval, mode), None)

    def reask(query: str, history: list[responses.Turn], k: float, retrieval: str, mode: str) -> Any:
        if not history or not query.strip():
            yield (gr.skip(),) * len(outputs)
            return
        options = responses.AskOptions(int(k), retrieval, mode)
        yield from run(history[-1].question, history, options, query)

    # One event for Enter and the button, so a second question waits for the first ("once").
    ask_args: dict[str, Any] = {"concurrency_id": "ask", "show_progress": "minimal", "trigger_mode": "once"}
    gr.on(
        [chat["question"].submit, chat["send"].click],
        ask,
        [chat["question"], turns, *options_inputs],
        outputs,
        **ask_args,
    )
    chat["reask"].click(reask, [chat["query"], turns, *options_inputs], outputs, **ask_args)
    chat["open"].click(
        lambda history, target: responses.open_citation(base, history, target),
        [turns, chat["target"]],
        chat["viewer"],
        queue=False,
    ).then(None, js=assets.SCROLL_TO_QUOTE_JS)
    reset = [chat["chatbot"], turns, chat["sources"], chat["viewer"], chat["query"], chat["markdown"]]

    def cleared() -> tuple[Any, ...]:
        return [], [], render.sources_html(None, -1, base.document), render.viewer_placeholder(), "", ""

    chat["clear"].click(cleared, None, reset, queue=False)
    chat["chatbot"].clear(cleared, None, reset, queue=False)
    chat["export_md"].click(
        lambda t: _export(responses.export_markdown(t), ".md"), turns, chat["export_file"]
    )
    chat["export_json"].click(
        lambda t: _export(responses.export_json(t), ".json"), turns, chat["export_file"]
    )


def _export(text: str, suffix: str) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="verbatim-export-"))
    path = folder / f"verbatim-chat{suffix}"
    path.write_text(text, encoding="utf-8")
    return gr.File(value=str(path), visible=True)
